//! [`IpnService`]: refuses what can be refused before reading, buffers the body once, verifies
//! it, and only then calls the inner service with the typed notification.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, header};
use ipn_core::Receiver;
use tower_service::Service;

use crate::future::ResponseFuture;

/// The middleware built by [`IpnLayer`](crate::IpnLayer).
///
/// For each request: method, content type and `Content-Length` are checked
/// ([`Receiver::precheck`]); the body is read once, at most
/// the verifier's [`max_body_bytes`](ipn_core::Verifier::max_body_bytes); the notification is
/// verified and claimed ([`Receiver::admit`]). On success the inner service is called with the typed
/// [`ipn_core::Notification`] in the request extensions and the same bytes as the body. On
/// failure the inner service is not called and the standard reply is written: its status,
/// `content-type: text/plain; charset=utf-8`, a body of at most 256 bytes.
///
/// Request bodies are any [`http_body::Body`] that can be rebuilt from [`Bytes`]
/// (`axum::body::Body`, `http_body_util::Full<Bytes>`...); response bodies any type that can be
/// built from [`Bytes`].
#[derive(Clone, Debug)]
pub struct IpnService<S> {
    inner: S,
    receiver: Arc<Receiver>,
}

impl<S> IpnService<S> {
    pub(crate) fn new(inner: S, receiver: Arc<Receiver>) -> Self {
        Self { inner, receiver }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The receiver this service forwards to.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for IpnService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ReqBody: http_body::Body + From<Bytes>,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The ready service is the one to call; a clone takes its place for the next request.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let receiver = Arc::clone(&self.receiver);

        let headers = request.headers();
        let content_type = headers.get(header::CONTENT_TYPE).map(|value| value.as_bytes());
        // An unreadable length is left to the limit enforced while reading.
        let content_length =
            headers.get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
        match receiver.precheck(request.method().as_str(), content_type, content_length) {
            Ok(()) => ResponseFuture::buffering(request, inner, receiver),
            Err(rejected) => ResponseFuture::rejected(rejected, inner, receiver),
        }
    }
}
