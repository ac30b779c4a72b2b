//! [`ResponseFuture`]: buffering the body, verifying it, then calling the inner service, or
//! answering a rejection without calling it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{LengthLimitError, Limited};
use ipn_core::{Notification, Outcome, Receiver, Rejected, Reply, RequestView};
use pin_project_lite::pin_project;
use tower_service::Service;
use tracing::Span;
use tracing::field::{Empty, debug};

use crate::headers::HttpHeaders;
use crate::response::{ReplyOutcome, reply_response, with_reply};

type Verified = (Parts, Bytes, Result<Notification, Rejected>);
type Verification = Pin<Box<dyn Future<Output = Verified> + Send>>;

pin_project! {
    /// The response future of [`IpnService`](crate::IpnService).
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<B, S::Future>,
        inner: S,
        receiver: Arc<Receiver>,
        span: Span,
        started: Instant,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<B, F> {
        // Reading the body, at most the configured limit.
        Buffering {
            #[pin]
            body: Limited<B>,
            buffer: BytesMut,
            parts: Option<Parts>,
        },
        // Checking the signature (the key store may be asynchronous).
        Verifying { verification: Verification },
        // The inner service handles the verified notification.
        Calling {
            #[pin]
            future: F,
        },
        // Answered by the layer; the inner service is not called.
        Rejected { reply: Option<(Outcome, Reply)> },
    }
}

fn new_span() -> Span {
    tracing::info_span!(
        "ipn",
        scheme = Empty,
        merchant_id = Empty,
        order_id = Empty,
        transaction_id = Empty,
        outcome = Empty,
        status = Empty,
        duration_ms = Empty,
    )
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    pub(crate) fn buffering(request: Request<B>, inner: S, receiver: Arc<Receiver>) -> Self
    where
        B: Body,
    {
        let (parts, body) = request.into_parts();
        let limit = receiver.max_body_bytes_limit();
        // The hint is the client's claim: trust it only up to the limit.
        let capacity = usize::try_from(body.size_hint().lower()).unwrap_or(limit).min(limit);
        let state = State::Buffering {
            body: Limited::new(body, limit),
            buffer: BytesMut::with_capacity(capacity),
            parts: Some(parts),
        };
        Self { state, inner, receiver, span: new_span(), started: Instant::now() }
    }

    pub(crate) fn rejected(rejected: Rejected, inner: S, receiver: Arc<Receiver>) -> Self {
        let span = new_span();
        span.in_scope(|| log_rejection(&rejected));
        let state = State::Rejected { reply: Some((rejected.error.outcome(), rejected.reply)) };
        Self { state, inner, receiver, span, started: Instant::now() }
    }
}

fn log_rejection(rejected: &Rejected) {
    // Core errors never carry a secret nor a computed signature.
    tracing::warn!(error = %rejected.error, outcome = ?rejected.error.outcome(), "notification rejected");
}

/// The request target as the client sent it: behind an axum `nest`, the original URI.
fn request_target(parts: &Parts) -> &str {
    #[cfg(feature = "axum")]
    let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |original| &original.0);
    #[cfg(not(feature = "axum"))]
    let uri = &parts.uri;
    uri.path_and_query().map_or("/", |target| target.as_str())
}

fn verify(receiver: Arc<Receiver>, parts: Parts, body: Bytes) -> Verification {
    Box::pin(async move {
        let result = {
            let headers = HttpHeaders(&parts.headers);
            let view = RequestView::new(parts.method.as_str(), request_target(&parts), &headers, &body);
            receiver.receive(view).await
        };
        (parts, body, result)
    })
}

fn record_notification(span: &Span, notification: &Notification) {
    span.record("scheme", notification.scheme().as_str());
    span.record("merchant_id", notification.merchant_id());
    if let Some(order_id) = notification.order_id() {
        span.record("order_id", order_id);
    }
    if let Some(transaction_id) = notification.transaction_id() {
        span.record("transaction_id", transaction_id);
    }
}

fn record_end(span: &Span, started: Instant, outcome: Option<Outcome>, status: u16) {
    if let Some(outcome) = outcome {
        span.record("outcome", debug(outcome));
    }
    span.record("status", status);
    span.record("duration_ms", u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    B: Body + From<Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: From<Bytes>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let _entered = this.span.enter();
        loop {
            match this.state.as_mut().project() {
                StateProj::Buffering { mut body, buffer, parts } => match ready!(body.as_mut().poll_frame(cx)) {
                    Some(Ok(frame)) => {
                        // Trailers are not part of a notification.
                        if let Ok(data) = frame.into_data() {
                            buffer.put(data);
                        }
                    }
                    Some(Err(error)) => {
                        let reply = if error.downcast_ref::<LengthLimitError>().is_some() {
                            let limit = this.receiver.max_body_bytes_limit();
                            let rejected = this.receiver.reject(ipn_core::Error::BodyTooLarge { limit });
                            log_rejection(&rejected);
                            (Outcome::BodyTooLarge, rejected.reply)
                        } else {
                            // Usually the client went away; a non-2xx reply lets the gateway retry.
                            tracing::warn!(%error, "could not read the notification body");
                            (Outcome::Malformed, this.receiver.reply_for(Outcome::Malformed))
                        };
                        this.state.set(State::Rejected { reply: Some(reply) });
                    }
                    None => {
                        let parts = parts.take().expect("the buffering state holds the request parts until it ends");
                        let body = std::mem::take(buffer).freeze();
                        let verification = verify(Arc::clone(this.receiver), parts, body);
                        this.state.set(State::Verifying { verification });
                    }
                },
                StateProj::Verifying { verification } => {
                    let (mut parts, body, result) = ready!(verification.as_mut().poll(cx));
                    match result {
                        Ok(notification) => {
                            record_notification(this.span, &notification);
                            tracing::debug!("notification verified; calling the handler");
                            parts.extensions.insert(notification);
                            let future = this.inner.call(Request::from_parts(parts, B::from(body)));
                            this.state.set(State::Calling { future });
                        }
                        Err(rejected) => {
                            log_rejection(&rejected);
                            let reply = (rejected.error.outcome(), rejected.reply);
                            this.state.set(State::Rejected { reply: Some(reply) });
                        }
                    }
                }
                StateProj::Calling { future } => {
                    let response = match ready!(future.poll(cx)) {
                        Ok(response) => response,
                        Err(error) => {
                            tracing::error!("the inner service failed");
                            return Poll::Ready(Err(error));
                        }
                    };
                    let (outcome, response) = apply_overrides(response, this.receiver);
                    let status = response.status().as_u16();
                    record_end(this.span, *this.started, outcome, status);
                    tracing::info!(status, outcome = outcome.map(debug), "notification handled");
                    return Poll::Ready(Ok(response));
                }
                StateProj::Rejected { reply } => {
                    let (outcome, reply) = reply.take().expect("ResponseFuture polled after completion");
                    record_end(this.span, *this.started, Some(outcome), reply.status());
                    return Poll::Ready(Ok(reply_response(&reply)));
                }
            }
        }
    }
}

/// A handler answering with an [`IpnReply`](crate::IpnReply) of a known outcome gets the
/// layer's reply for that outcome, overrides included.
fn apply_overrides<ResBody: From<Bytes>>(
    mut response: Response<ResBody>,
    receiver: &Receiver,
) -> (Option<Outcome>, Response<ResBody>) {
    match response.extensions_mut().remove::<ReplyOutcome>() {
        Some(ReplyOutcome(outcome)) => (Some(outcome), with_reply(response, &receiver.reply_for(outcome))),
        None => (None, response),
    }
}

impl<S, B> fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Buffering { .. } => "Buffering",
            State::Verifying { .. } => "Verifying",
            State::Calling { .. } => "Calling",
            State::Rejected { .. } => "Rejected",
        };
        f.debug_struct("ResponseFuture").field("state", &state).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str) -> Parts {
        Request::post(uri).body(()).unwrap().into_parts().0
    }

    #[test]
    fn request_target_is_path_and_query_as_received() {
        assert_eq!(request_target(&parts("/ipn?shop=1&x=%2F")), "/ipn?shop=1&x=%2F");
        assert_eq!(request_target(&parts("http://example.com")), "/");
    }

    #[cfg(feature = "axum")]
    #[test]
    fn request_target_behind_nest_is_the_original_uri() {
        // `Router::nest` strips its prefix from the URI; signatures cover what the client sent.
        let mut nested = parts("/ipn");
        nested.extensions.insert(axum::extract::OriginalUri("/payments/ipn?a=1".parse().unwrap()));
        assert_eq!(request_target(&nested), "/payments/ipn?a=1");
    }
}
