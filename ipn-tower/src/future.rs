//! [`ResponseFuture`]: buffering the body, verifying it, then calling the inner service, or
//! answering a rejection without calling it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use ipn_core::adapter::{ChunkBuffer, Delivery, Rejected};
use ipn_core::trace::Trace;
use ipn_core::{Notification, Outcome, Receiver, Reply, RequestView};
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower_service::Service;

use crate::headers::HttpHeaders;
use crate::response::{ReplyOutcome, reply_response, with_reply};

type Verified = (Parts, Bytes, Result<(Notification, Delivery), Rejected>);
type Verification = Pin<Box<dyn Future<Output = Verified> + Send>>;
type Finish = Pin<Box<dyn Future<Output = ()> + Send>>;

pin_project! {
    /// The response future of [`IpnService`](crate::IpnService).
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<B, S::Future, S::Response>,
        inner: S,
        receiver: Arc<Receiver>,
        trace: Trace,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<B, F, R> {
        // Reading the body into the core's buffer, which enforces the limit.
        Buffering {
            #[pin]
            body: B,
            read: Option<(Parts, ChunkBuffer<Bytes>)>,
            // The receiver's read timeout, started the first time the body is not all there (a
            // notification usually arrives whole with its headers, and needs no timer).
            deadline: Option<Pin<Box<Sleep>>>,
        },
        // Checking the signature, then claiming the notification.
        Verifying { verification: Verification },
        // The inner service handles the verified notification.
        Calling {
            #[pin]
            future: F,
            delivery: Option<Delivery>,
        },
        // Recording the handler's outcome in the notification store before answering.
        Finishing { finish: Finish, response: Option<R> },
        // Answered by the layer; the inner service is not called.
        Rejected { reply: Option<(Outcome, Reply)> },
    }
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
        // The hint is the client's claim: the core caps what it reserves from it.
        let buffer = receiver.chunk_buffer(Some(body.size_hint().lower()));
        let state = State::Buffering { body, read: Some((parts, buffer)), deadline: None };
        Self { state, inner, receiver, trace: Trace::start() }
    }

    pub(crate) fn rejected(rejected: Rejected, inner: S, receiver: Arc<Receiver>) -> Self {
        let trace = Trace::start();
        let state = State::rejected(rejected, &trace);
        Self { state, inner, receiver, trace }
    }
}

/// The request target as the client sent it: behind an axum `nest`, the original URI.
fn request_target(parts: &Parts) -> &str {
    #[cfg(feature = "axum")]
    let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |original| &original.0);
    #[cfg(not(feature = "axum"))]
    let uri = &parts.uri;
    uri.path_and_query().map_or("/", |target| target.as_str())
}

/// Verifies, then claims the notification in the store (when one is set).
fn admit(receiver: Arc<Receiver>, parts: Parts, body: Bytes) -> Verification {
    Box::pin(async move {
        let admitted = {
            let headers = HttpHeaders(&parts.headers);
            let view = RequestView::shared(parts.method.as_str(), request_target(&parts), &headers, &body);
            receiver.admit(view).await
        };
        (parts, body, admitted)
    })
}

/// Appends a data frame to the buffer: a `Bytes` frame (hyper's, axum's) is kept without copying;
/// a frame in several pieces is copied piece by piece.
fn push_data(buffer: &mut ChunkBuffer<Bytes>, mut data: impl Buf) -> Result<(), Rejected> {
    let len = data.remaining();
    if data.chunk().len() == len {
        return buffer.push(data.copy_to_bytes(len));
    }
    while data.has_remaining() {
        let chunk = data.chunk();
        let len = chunk.len();
        buffer.push_slice(chunk)?;
        data.advance(len);
    }
    Ok(())
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
        let _entered = this.trace.span().enter();
        loop {
            match this.state.as_mut().project() {
                StateProj::Buffering { mut body, read, deadline } => {
                    let refused = match body.as_mut().poll_frame(cx) {
                        // Trailers are not part of a notification.
                        Poll::Ready(Some(Ok(frame))) => match (frame.into_data(), read.as_mut()) {
                            (Ok(data), Some((_, buffer))) => push_data(buffer, data).err(),
                            _ => None,
                        },
                        // Usually the client went away; a non-2xx reply lets the gateway retry.
                        Poll::Ready(Some(Err(error))) => {
                            let error: Box<dyn std::error::Error + Send + Sync> = error.into();
                            Some(this.receiver.body_unreadable(error))
                        }
                        Poll::Ready(None) => {
                            let (parts, buffer) =
                                read.take().expect("the buffering state holds the request until it ends");
                            let body = buffer.finish().into_chunk();
                            let verification = admit(Arc::clone(this.receiver), parts, body);
                            this.state.set(State::Verifying { verification });
                            continue;
                        }
                        // The rest of the body is on its way: from now on, under the read timeout
                        // (outside a tokio runtime, another executor, there is no timer: no deadline).
                        // A trickle polls it at each chunk; an endless fast stream hits the limit.
                        Poll::Pending => {
                            if deadline.is_none() && tokio::runtime::Handle::try_current().is_ok() {
                                *deadline = Some(Box::pin(tokio::time::sleep(this.receiver.read_timeout_limit())));
                            }
                            if !deadline.as_mut().is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready()) {
                                return Poll::Pending;
                            }
                            Some(this.receiver.body_timed_out())
                        }
                    };
                    if let Some(rejected) = refused {
                        this.trace.rejected(&rejected);
                        this.state.set(State::Rejected { reply: Some((rejected.error.outcome(), rejected.reply)) });
                    }
                }
                StateProj::Verifying { verification } => {
                    let (parts, body, result) = ready!(verification.as_mut().poll(cx));
                    let next = enter(parts, body, result, this.inner, this.trace);
                    this.state.set(next);
                }
                StateProj::Calling { future, delivery } => {
                    let response = match ready!(future.poll(cx)) {
                        Ok(response) => response,
                        Err(error) => {
                            // Dropping the delivery leaves its claim to expire with the lease.
                            tracing::error!("the inner service failed");
                            return Poll::Ready(Err(error));
                        }
                    };
                    let (outcome, response) = apply_overrides(response, this.receiver);
                    let status = response.status().as_u16();
                    this.trace.answered(outcome, status);
                    let Some(delivery) = delivery.take() else { return Poll::Ready(Ok(response)) };
                    let receiver = Arc::clone(this.receiver);
                    let finish: Finish = Box::pin(async move { receiver.complete(delivery, status, outcome).await });
                    this.state.set(State::Finishing { finish, response: Some(response) });
                }
                StateProj::Finishing { finish, response } => {
                    ready!(finish.as_mut().poll(cx));
                    let response = response.take().expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(response));
                }
                StateProj::Rejected { reply } => {
                    let (outcome, reply) = reply.take().expect("ResponseFuture polled after completion");
                    this.trace.answered(Some(outcome), reply.status());
                    return Poll::Ready(Ok(reply_response(&reply)));
                }
            }
        }
    }
}

/// The state after verification: the inner service called with the notification in the
/// extensions and the same bytes as body, or the rejection.
fn enter<S, B>(
    mut parts: Parts,
    body: Bytes,
    result: Result<(Notification, Delivery), Rejected>,
    inner: &mut S,
    trace: &Trace,
) -> State<B, S::Future, S::Response>
where
    S: Service<Request<B>>,
    B: From<Bytes>,
{
    match result {
        Ok((notification, delivery)) => {
            trace.notification(&notification);
            parts.extensions.insert(notification);
            let future = inner.call(Request::from_parts(parts, B::from(body)));
            // Without a claim there is nothing to record: answer as soon as the handler does.
            let delivery = delivery.is_claimed().then_some(delivery);
            State::Calling { future, delivery }
        }
        Err(rejected) => State::rejected(rejected, trace),
    }
}

impl<B, F, R> State<B, F, R> {
    /// Answered by the layer, the rejection traced.
    fn rejected(rejected: Rejected, trace: &Trace) -> Self {
        trace.rejected(&rejected);
        State::Rejected { reply: Some((rejected.error.outcome(), rejected.reply)) }
    }
}

/// A handler answering with an [`IpnReply`](crate::IpnReply) of a known outcome gets the
/// layer's reply for that outcome, overrides included (without one, it already has it).
fn apply_overrides<ResBody: From<Bytes>>(
    mut response: Response<ResBody>,
    receiver: &Receiver,
) -> (Option<Outcome>, Response<ResBody>) {
    match response.extensions_mut().remove::<ReplyOutcome>() {
        Some(ReplyOutcome(outcome)) => match receiver.reply_override(outcome) {
            Some(reply) => (Some(outcome), with_reply(response, reply)),
            None => (Some(outcome), response),
        },
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
            State::Finishing { .. } => "Finishing",
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
