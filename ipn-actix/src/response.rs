//! What handlers answer: [`IpnReply`] (a standard reply) and [`IpnError`] (any failure, answered
//! with the update-failed reply so the gateway retries). Every reply is written by
//! [`reply_response`]: the status, `text/plain; charset=utf-8`, a body of at most 256 bytes.

use std::fmt;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use bytes::Bytes;
use ipn_core::adapter::ErrorChain;
use ipn_core::{Outcome, Reply};

/// Marks a response written for a known outcome, so that [`IpnMiddleware`](crate::IpnMiddleware)
/// can apply its overrides to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplyOutcome(pub(crate) Outcome);

/// Writes a core [`Reply`] as an actix response; a default message is not copied.
pub(crate) fn reply_response(reply: &Reply) -> HttpResponse {
    // `Reply` keeps its status within 100..=999, which `StatusCode` accepts; 500 is only a guard.
    let status = StatusCode::from_u16(reply.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match reply.static_body() {
        Some(body) => Bytes::from_static(body.as_bytes()),
        None => Bytes::copy_from_slice(reply.body().as_bytes()),
    };
    HttpResponse::build(status).insert_header((CONTENT_TYPE, HeaderValue::from_static(Reply::CONTENT_TYPE))).body(body)
}

/// The reply of an outcome, marked so that the middleware applies its overrides.
fn outcome_response(reply: &Reply, outcome: Option<Outcome>) -> HttpResponse {
    let mut response = reply_response(reply);
    if let Some(outcome) = outcome {
        response.extensions_mut().insert(ReplyOutcome(outcome));
    }
    response
}

/// Replaces a response's status and body with a reply's, keeping its other headers.
pub(crate) fn with_reply<B>(response: ServiceResponse<B>, reply: &Reply) -> ServiceResponse {
    let (req, previous) = response.into_parts();
    let mut response = reply_response(reply);
    for (name, value) in previous.headers() {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, response)
}

/// A reply a handler returns: one of the standard outcomes, or any [`Reply`].
///
/// Under [`IpnMiddleware`](crate::IpnMiddleware), the outcome constructors
/// ([`order_updated`](Self::order_updated), [`already_processed`](Self::already_processed),
/// [`update_failed`](Self::update_failed), [`for_outcome`](Self::for_outcome)) are answered with
/// the middleware's reply for that outcome, overrides included; a reply built
/// [`From<Reply>`](#impl-From<Reply>-for-IpnReply) is sent as it is.
///
/// ```
/// use ipn_actix::IpnReply;
/// use ipn_core::{Outcome, Reply};
/// let reply = IpnReply::from(Reply::new(200, "OK-Accepted payment, order has been updated."));
/// assert_eq!((reply.reply().status(), reply.outcome()), (200, None));
/// assert_eq!(IpnReply::update_failed().reply().status(), 500);
/// assert_eq!(IpnReply::order_updated().outcome(), Some(Outcome::Processed));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpnReply {
    reply: Reply,
    outcome: Option<Outcome>,
}

impl IpnReply {
    /// The reply for an outcome (the middleware's override applies).
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

    /// The reply as built (before any override of the middleware).
    pub fn reply(&self) -> &Reply {
        &self.reply
    }

    /// The outcome, when built for one.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }
}

impl From<Reply> for IpnReply {
    fn from(reply: Reply) -> Self {
        Self { reply, outcome: None }
    }
}

impl Responder for IpnReply {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        outcome_response(&self.reply, self.outcome)
    }
}

/// A handler failure: kept with its sources, logged (error level) when it is answered, with
/// [`IpnReply::update_failed`] (500, or the middleware's override) so the gateway retries the
/// notification.
///
/// Any error converts into it with `?`, so a handler reads:
///
/// ```
/// use ipn_actix::{Ipn, IpnError, IpnReply};
/// use ipn_core::Notification;
///
/// async fn ipn(Ipn(notification): Ipn<Notification>) -> Result<IpnReply, IpnError> {
///     let order: u64 = notification.order_id().unwrap_or_default().parse()?;
///     let _ = order; // update the order here
///     Ok(IpnReply::order_updated())
/// }
/// ```
///
/// It deliberately does not implement [`std::error::Error`]: that is what lets every error type
/// convert into it.
pub struct IpnError {
    error: Box<dyn std::error::Error + Send + Sync>,
}

impl IpnError {
    /// The error.
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.error
    }

    /// The error, back.
    pub fn into_inner(self) -> Box<dyn std::error::Error + Send + Sync> {
        self.error
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> From<E> for IpnError {
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

impl ResponseError for IpnError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    /// Logs the error and answers the update-failed reply.
    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = %ErrorChain(&*self.error), "the IPN handler failed; answering update-failed so the gateway retries");
        outcome_response(&Reply::update_failed(), Some(Outcome::ProcessingFailed))
    }
}

impl Responder for IpnError {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        self.error_response()
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    fn parts(response: HttpResponse) -> (u16, String, String) {
        let status = response.status().as_u16();
        let content_type = response.headers().get(CONTENT_TYPE).unwrap().to_str().unwrap().to_owned();
        let body = response.into_body().try_into_bytes().unwrap();
        (status, content_type, String::from_utf8(body.to_vec()).unwrap())
    }

    #[test]
    fn named_replies_have_their_status_message_and_plain_text_type() {
        let req = actix_web::test::TestRequest::default().to_http_request();
        let cases = [
            (IpnReply::order_updated(), 200, "Order successfully updated."),
            (IpnReply::already_processed(), 200, "Notification already processed."),
            (IpnReply::update_failed(), 500, "An error occurred while updating the order."),
        ];
        for (reply, status, body) in cases {
            let (s, ct, b) = parts(reply.respond_to(&req));
            assert_eq!((s, ct.as_str(), b.as_str()), (status, "text/plain; charset=utf-8", body));
        }
    }

    #[test]
    fn custom_reply_is_written_as_given_and_cut_to_256_bytes() {
        let req = actix_web::test::TestRequest::default().to_http_request();
        let (status, _, body) = parts(IpnReply::from(Reply::new(202, "x".repeat(300))).respond_to(&req));
        assert_eq!((status, body.len()), (202, 256));
    }

    #[test]
    fn any_error_becomes_the_update_failed_reply() {
        let io = std::io::Error::other("database down");
        let from_io = IpnError::from(io);
        assert_eq!(from_io.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let (status, ct, body) = parts(from_io.error_response());
        assert_eq!(
            (status, ct.as_str(), body.as_str()),
            (500, "text/plain; charset=utf-8", Reply::update_failed().body())
        );
        let from_str = IpnError::from("order not found");
        assert_eq!(from_str.to_string(), "order not found", "the error is kept, as in ipn-tower");
        assert_eq!(from_str.into_inner().to_string(), "order not found");
    }
}
