//! [`IpnMiddleware`], the [`Transform`] that wraps a notification route, and [`IpnService`], the
//! service it builds: precheck, read the body once under the limit, verify, then call the route
//! with the typed notification in the extensions and the same bytes as payload, or answer the
//! standard reply without calling it.

use std::fmt;
use std::future::{Ready, ready};
use std::pin::pin;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{Error, HttpMessage};
use bytes::Bytes;
use futures_util::future::{self, LocalBoxFuture};
use futures_util::{StreamExt, stream};
use ipn_core::adapter::{Delivery, Rejected};
use ipn_core::trace::Trace;
use ipn_core::{Notification, Receiver, RequestView};
use tracing::Instrument;

use crate::headers::HttpHeaders;
use crate::response::{ReplyOutcome, reply_response, with_reply};

/// Verifies the notifications posted to the routes it wraps (a `web::resource` or a
/// `web::scope`), so their handlers only see authentic ones, through [`Ipn<T>`](crate::Ipn).
///
/// Everything else is answered here with the standard reply of [`ipn_core::Outcome`], and the
/// handler is not called: another method (405), another content type (415), a body over the limit
/// (413, whether announced by `Content-Length` or streamed), an empty post (400), a bad signature
/// (401), an unknown shop (403)...
///
/// Built from a [`Verifier`](ipn_core::Verifier) (what is accepted) or a [`Receiver`] around one (how deliveries are
/// answered and recorded): each option is set there, once, and shared with the other adapters.
/// See the crate documentation for an example.
#[derive(Debug, Clone)]
pub struct IpnMiddleware {
    receiver: Receiver,
}

impl IpnMiddleware {
    /// A middleware over a receiver, or over a verifier with the default replies and no store.
    pub fn new(receiver: impl Into<Receiver>) -> Self {
        Self { receiver: receiver.into() }
    }

    /// The receiver the middleware verifies and answers with.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl<S, B> Transform<S, ServiceRequest> for IpnMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = IpnService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(IpnService { service: Rc::new(service), receiver: Rc::new(self.receiver.clone()) }))
    }
}

/// The service [`IpnMiddleware`] wraps a route's service in.
pub struct IpnService<S> {
    service: Rc<S>,
    receiver: Rc<Receiver>,
}

impl<S> fmt::Debug for IpnService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpnService").field("receiver", &self.receiver).finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for IpnService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let trace = Trace::start();
        let span = trace.span().clone();
        Box::pin(handle(Rc::clone(&self.service), Rc::clone(&self.receiver), req, trace).instrument(span))
    }
}

/// One request, inside its span: verify, call the route, apply the reply overrides.
async fn handle<S, B>(
    service: Rc<S>,
    receiver: Rc<Receiver>,
    mut req: ServiceRequest,
    trace: Trace,
) -> Result<ServiceResponse<EitherBody<B>>, Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let (notification, delivery) = match admit(&receiver, &mut req).await {
        Ok(verified) => verified,
        Err(rejected) => {
            trace.rejected(&rejected);
            trace.answered(Some(rejected.error.outcome()), rejected.reply.status());
            return Ok(req.into_response(reply_response(&rejected.reply)).map_into_right_body());
        }
    };
    trace.notification(&notification);
    req.extensions_mut().insert(notification);
    let mut response = match service.call(req).await {
        Ok(response) => response,
        Err(error) => {
            // Dropping the delivery leaves its claim to expire with the lease.
            tracing::error!("the inner service failed");
            return Err(error);
        }
    };
    let outcome = response.response_mut().extensions_mut().remove::<ReplyOutcome>().map(|ReplyOutcome(o)| o);
    // A handler's `IpnReply` / `IpnError` of a known outcome gets this middleware's reply for it
    // (without an override, it already has it).
    let response = match outcome.and_then(|outcome| receiver.reply_override(outcome)) {
        Some(reply) => with_reply(response, reply).map_into_right_body(),
        None => response.map_into_left_body(),
    };
    let status = response.status().as_u16();
    trace.answered(outcome, status);
    receiver.complete(delivery, status, outcome).await;
    Ok(response)
}

/// Prechecks, reads, verifies the request and claims its notification; on success the same bytes
/// are back as its payload.
async fn admit(receiver: &Receiver, req: &mut ServiceRequest) -> Result<(Notification, Delivery), Rejected> {
    let content_length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let content_type = req.headers().get(CONTENT_TYPE).map(|value| value.as_bytes());
    receiver.precheck(req.method().as_str(), content_type, content_length)?;

    // A body that arrives as one chunk is kept as it is, without copying.
    let mut buffer = receiver.chunk_buffer::<Bytes>(content_length);
    let mut payload = req.take_payload();
    let read = async {
        while let Some(chunk) = payload.next().await {
            // The client went away or sent a broken stream: nothing to verify.
            let chunk = chunk.map_err(|error| receiver.body_unreadable(error))?;
            buffer.push(chunk)?;
        }
        Ok::<_, Rejected>(())
    };
    // A stalled or endless stream without Content-Length stops at the deadline. It starts the first
    // time the body is not all there, as in ipn-tower: a notification usually arrives whole with
    // its headers, and then needs no timer (setting one up costs more than reading the body).
    let mut read = pin!(read);
    match future::poll_immediate(read.as_mut()).await {
        Some(read) => read?,
        None => actix_web::rt::time::timeout(receiver.read_timeout_limit(), read)
            .await
            .map_err(|_| receiver.body_timed_out())??,
    }
    let body = buffer.finish().into_chunk();

    let admitted = {
        let headers = HttpHeaders(req.headers());
        let target = req.uri().path_and_query().map_or_else(|| req.uri().path(), |target| target.as_str());
        receiver.admit(RequestView::shared(req.method().as_str(), target, &headers, &body)).await?
    };
    // The same bytes for the route, as a one-item stream (one allocation, where `Payload::from`
    // builds an h1 payload: two).
    req.set_payload(Payload::Stream { payload: Box::pin(stream::once(future::ready(Ok(body)))) });
    Ok(admitted)
}

#[cfg(test)]
mod tests {
    use ipn_core::{Keys, Mode, ShopKeys, Verifier};

    use super::*;

    fn middleware() -> IpnMiddleware {
        let keys =
            Keys::builder().shop(ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788")).build().unwrap();
        IpnMiddleware::new(Verifier::new(keys))
    }

    #[test]
    fn debug_output_never_shows_a_key() {
        let debug = format!("{:?}", middleware());
        assert!(debug.contains("IpnMiddleware"));
        assert!(!debug.contains("1122334455667788"), "{debug}");
    }
}
