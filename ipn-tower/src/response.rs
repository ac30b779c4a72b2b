//! Replies as values a handler returns: [`IpnReply`] for an outcome, [`IpnError`] for a failure
//! (logged, answered with the update-failed reply so the gateway retries).

use std::error::Error as StdError;
use std::fmt;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use ipn_core::adapter::ErrorChain;
use ipn_core::{Outcome, Reply};

/// Marks a response written for a known outcome, so that [`IpnService`](crate::IpnService) can
/// apply the layer's overrides to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplyOutcome(pub(crate) Outcome);

/// The HTTP response of a reply: its status, `content-type: text/plain; charset=utf-8`, its body
/// (at most 256 bytes).
pub(crate) fn reply_response<B: From<Bytes>>(reply: &Reply) -> Response<B> {
    let mut response = Response::new(reply_body(reply));
    *response.status_mut() = reply_status(reply);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(Reply::CONTENT_TYPE));
    response
}

/// Replaces a response's status and body with a reply's, keeping its other headers.
pub(crate) fn with_reply<B: From<Bytes>>(response: Response<B>, reply: &Reply) -> Response<B> {
    let (mut parts, _) = response.into_parts();
    parts.status = reply_status(reply);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(Reply::CONTENT_TYPE));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, reply_body(reply))
}

fn reply_status(reply: &Reply) -> StatusCode {
    // `Reply` keeps its status within 100..=999, which `StatusCode` accepts.
    StatusCode::from_u16(reply.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The body of a reply; a default message is not copied.
fn reply_body<B: From<Bytes>>(reply: &Reply) -> B {
    let body = match reply.static_body() {
        Some(body) => Bytes::from_static(body.as_bytes()),
        None => Bytes::copy_from_slice(reply.body().as_bytes()),
    };
    B::from(body)
}

/// A reply a handler returns: one of the standard outcomes, or any [`Reply`].
///
/// Under [`IpnLayer`](crate::IpnLayer), the outcome constructors ([`order_updated`](Self::order_updated),
/// [`already_processed`](Self::already_processed), [`update_failed`](Self::update_failed),
/// [`for_outcome`](Self::for_outcome)) are answered with the layer's reply for that outcome,
/// overrides included; a reply built [`From<Reply>`](#impl-From<Reply>-for-IpnReply) is sent as
/// it is.
///
/// ```
/// use ipn_tower::IpnReply;
/// let reply = IpnReply::update_failed();
/// assert_eq!(reply.reply().status(), 500);
/// let response: http::Response<bytes::Bytes> = IpnReply::order_updated().into_http_response();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.body(), "Order successfully updated.");
/// assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpnReply {
    reply: Reply,
    outcome: Option<Outcome>,
}

impl IpnReply {
    /// The reply for an outcome (the layer's override applies).
    pub const fn for_outcome(outcome: Outcome) -> Self {
        Self { reply: Reply::for_outcome(outcome), outcome: Some(outcome) }
    }

    /// `200 Order successfully updated.`: processed; the gateway stops.
    pub const fn order_updated() -> Self {
        Self::for_outcome(Outcome::Processed)
    }

    /// `200 Notification already processed.`: a duplicate of a processed notification; the
    /// gateway stops.
    pub const fn already_processed() -> Self {
        Self::for_outcome(Outcome::AlreadyProcessed)
    }

    /// `500 An error occurred while updating the order.`: not processed; the gateway retries, so
    /// nothing is lost.
    pub const fn update_failed() -> Self {
        Self::for_outcome(Outcome::ProcessingFailed)
    }

    /// The reply as built (before any override of the layer).
    pub fn reply(&self) -> &Reply {
        &self.reply
    }

    /// The outcome, when built for one.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The HTTP response, for any response body built from [`Bytes`] (for tower stacks without
    /// axum).
    pub fn into_http_response<B: From<Bytes>>(self) -> Response<B> {
        let mut response = reply_response(&self.reply);
        if let Some(outcome) = self.outcome {
            response.extensions_mut().insert(ReplyOutcome(outcome));
        }
        response
    }
}

impl From<Reply> for IpnReply {
    fn from(reply: Reply) -> Self {
        Self { reply, outcome: None }
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for IpnReply {
    fn into_response(self) -> axum::response::Response {
        self.into_http_response()
    }
}

/// A handler failure: logged (at error level, with the error's own message), answered with the
/// update-failed reply (`500`), so the gateway retries and nothing is lost.
///
/// Any error converts into it, so `?` works in handlers returning `Result<IpnReply, IpnError>`.
/// The error's message is logged as it is: keep secrets out of your error messages. It is never
/// sent to the gateway.
///
/// Like `anyhow::Error`, it does not implement [`std::error::Error`] itself: that would conflict
/// with the conversion from every error.
///
/// ```
/// use ipn_tower::{IpnError, IpnReply};
/// fn update(order: &str) -> Result<IpnReply, IpnError> {
///     let _amount: u64 = order.parse()?;
///     Ok(IpnReply::order_updated())
/// }
/// let response: http::Response<bytes::Bytes> = update("not a number").unwrap_err().into_http_response();
/// assert_eq!(response.status(), 500);
/// assert_eq!(response.body(), "An error occurred while updating the order.");
/// ```
pub struct IpnError {
    error: Box<dyn StdError + Send + Sync>,
}

impl IpnError {
    /// The error.
    pub fn get_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.error
    }

    /// The error, back.
    pub fn into_inner(self) -> Box<dyn StdError + Send + Sync> {
        self.error
    }

    /// Logs the error and returns the update-failed response, for any response body built from
    /// [`Bytes`].
    pub fn into_http_response<B: From<Bytes>>(self) -> Response<B> {
        tracing::error!(error = %ErrorChain(&*self.error), "the IPN handler failed; answering update-failed so the gateway retries");
        IpnReply::update_failed().into_http_response()
    }
}

impl<E: Into<Box<dyn StdError + Send + Sync>>> From<E> for IpnError {
    fn from(error: E) -> Self {
        Self { error: error.into() }
    }
}

impl fmt::Debug for IpnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IpnError").field(&self.error).finish()
    }
}

impl fmt::Display for IpnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&ErrorChain(&*self.error), f)
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for IpnError {
    fn into_response(self) -> axum::response::Response {
        self.into_http_response()
    }
}
