//! [`IpnMiddleware`], the [`Transform`] that wraps a notification route, and [`IpnService`], the
//! service it builds: precheck, read the body once under the limit, verify, then call the route
//! with the typed notification in the extensions and the same bytes as payload, or answer the
//! standard reply without calling it.

use std::borrow::Cow;
use std::fmt;
use std::future::{Ready, ready};
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{Error, HttpMessage};
use bytes::Bytes;
use futures_util::future::{self, LocalBoxFuture};
use futures_util::{StreamExt, stream};
use ipn_core::store::NotificationStore;
use ipn_core::trace::Trace;
use ipn_core::{Clock, Delivery, Endpoint, Notification, Outcome, Receiver, Rejected, Replies, RequestView, Verifier};
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
/// The builder methods forward to [`ipn_core::Receiver`]. See the crate documentation for an
/// example.
#[derive(Debug, Clone)]
pub struct IpnMiddleware {
    receiver: Receiver,
}

impl IpnMiddleware {
    /// A middleware verifying with `verifier`, with the default replies.
    pub fn new(verifier: Verifier) -> Self {
        Self::from_receiver(Receiver::new(verifier))
    }

    /// A middleware over an already configured receiver.
    pub fn from_receiver(receiver: Receiver) -> Self {
        Self { receiver }
    }

    /// The receiver the middleware forwards to.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }

    fn map(self, f: impl FnOnce(Receiver) -> Receiver) -> Self {
        Self { receiver: f(self.receiver) }
    }

    /// The largest body accepted (default 64 KiB), checked on `Content-Length` and while reading.
    pub fn max_body_bytes(self, limit: usize) -> Self {
        self.map(|r| r.max_body_bytes(limit))
    }

    /// Decides TEST mode for every shop, whatever each shop's own setting says: `true` accepts
    /// every shop's TEST-mode notifications, `false` refuses them all (`403`). Not called (the
    /// default), a TEST-mode notification is refused unless its shop opted in
    /// (`accept_test_mode = true` in its `[[shops]]` table, `ShopKeys::accept_test_mode(true)`).
    /// See [`Verifier::accept_test_mode`](ipn_core::Verifier::accept_test_mode).
    pub fn accept_test_mode(self, accept: bool) -> Self {
        self.map(|r| r.accept_test_mode(accept))
    }

    /// What the wrapped route is for: the IPN (default) or the buyer's browser return.
    pub fn endpoint(self, endpoint: Endpoint) -> Self {
        self.map(|r| r.endpoint(endpoint))
    }

    /// The accepted media types (default: form and JSON).
    pub fn media_types<S: AsRef<str>>(self, media_types: impl IntoIterator<Item = S>) -> Self {
        self.map(|r| r.media_types(media_types))
    }

    /// The clock for signed-date checks (default: the system clock).
    pub fn clock(self, clock: impl Clock + 'static) -> Self {
        self.map(|r| r.clock(clock))
    }

    /// The accepted distance between a signed `Date` and now (default 300 s).
    pub fn max_clock_skew(self, window: Duration) -> Self {
        self.map(|r| r.max_clock_skew(window))
    }

    /// Overrides the status and message of one outcome (the message is cut to 256 bytes).
    pub fn reply(self, outcome: Outcome, status: u16, message: impl Into<Cow<'static, str>>) -> Self {
        self.map(|r| r.reply(outcome, status, message))
    }

    /// Processes each notification once: claims its fingerprint in `store` before the handler
    /// runs, records the reply after a 2xx, releases the claim otherwise. A duplicate gets the
    /// recorded reply without calling the handler; one in progress elsewhere gets `409`; a store
    /// that cannot be reached gets `503` (the gateway retries).
    pub fn store(self, store: impl NotificationStore + 'static) -> Self {
        self.map(|r| r.store(store))
    }

    /// How long a claim is held before another delivery may take it over (default 60 s).
    pub fn lease(self, lease: Duration) -> Self {
        self.map(|r| r.lease(lease))
    }

    /// How long the whole body may take to arrive (default 10 s); then the request is answered
    /// `408` (see [`Receiver::read_timeout`](ipn_core::Receiver::read_timeout)).
    pub fn read_timeout(self, timeout: Duration) -> Self {
        self.map(|r| r.read_timeout(timeout))
    }

    /// Replaces the whole reply table.
    pub fn replies(self, replies: Replies) -> Self {
        self.map(|r| r.replies(replies))
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
    use std::time::Duration;

    use ipn_core::{FixedClock, Keys, Mode, ShopKeys};

    use super::*;

    fn middleware() -> IpnMiddleware {
        let keys =
            Keys::builder().shop(ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788")).build().unwrap();
        IpnMiddleware::new(Verifier::new(keys))
    }

    #[test]
    fn builder_methods_forward_to_the_receiver() {
        let clock = FixedClock::from_http_date("Thu, 01 Dec 2022 19:08:22 GMT").unwrap();
        let built = middleware()
            .max_body_bytes(1234)
            .accept_test_mode(false)
            .endpoint(Endpoint::Return)
            .media_types(["application/json"])
            .clock(clock)
            .max_clock_skew(Duration::from_secs(7))
            .reply(Outcome::EmptyPost, 400, "KO-empty");
        let policy = built.receiver.verifier().policy();
        assert_eq!(policy.max_body_bytes(), 1234);
        assert_eq!(policy.accepts_test_mode(), Some(false));
        // Not set, each shop decides (and refuses TEST unless it opted in).
        assert_eq!(middleware().receiver.verifier().policy().accepts_test_mode(), None);
        assert_eq!(policy.endpoint(), Endpoint::Return);
        assert!(policy.accepts_media_type("application/json"));
        assert!(!policy.accepts_media_type("application/x-www-form-urlencoded"));
        assert_eq!(policy.clock().now(), clock.0);
        assert_eq!(policy.max_clock_skew(), Duration::from_secs(7));
        assert_eq!(built.receiver.reply_for(Outcome::EmptyPost).body(), "KO-empty");

        let replaced = built.replies(Replies::default());
        assert_eq!(replaced.receiver.reply_for(Outcome::EmptyPost).body(), "POST is empty.");
    }

    #[test]
    fn debug_output_never_shows_a_key() {
        let debug = format!("{:?}", middleware());
        assert!(debug.contains("IpnMiddleware"));
        assert!(!debug.contains("1122334455667788"), "{debug}");
    }
}
