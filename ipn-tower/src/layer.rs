//! [`IpnLayer`]: the builder a merchant configures once, and the [`tower_layer::Layer`] that
//! wraps an IPN route with [`IpnService`].

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use ipn_core::store::NotificationStore;
use ipn_core::{Clock, Endpoint, Outcome, Receiver, Replies, Verifier};
use tower_layer::Layer;

use crate::service::IpnService;

/// Wraps a route so that it only ever sees verified notifications.
///
/// Every option forwards to [`ipn_core::Receiver`], the core shared with the other adapters.
/// Cheap to clone: the configuration is shared.
///
/// ```
/// use std::time::Duration;
/// use ipn_core::{Keys, Mode, Outcome, ShopKeys, Verifier};
/// use ipn_tower::IpnLayer;
///
/// let keys = Keys::builder()
///     .shop(ShopKeys::new("12345678").form_key(Mode::Production, "8877665544332211"))
///     .build()
///     .unwrap();
/// let layer = IpnLayer::new(Verifier::new(keys))
///     .max_body_bytes(16 * 1024)
///     .accept_test_mode(false)
///     .max_clock_skew(Duration::from_secs(120))
///     .reply(Outcome::Processed, 200, "OK-Accepted payment, order has been updated.");
/// assert_eq!(layer.receiver().max_body_bytes_limit(), 16 * 1024);
/// ```
///
/// See the [crate documentation](crate) for wrapping one route of an axum `Router`.
#[derive(Clone, Debug)]
pub struct IpnLayer {
    receiver: Arc<Receiver>,
}

impl IpnLayer {
    /// A layer verifying with `verifier` and answering the default replies.
    pub fn new(verifier: Verifier) -> Self {
        Self::from_receiver(Receiver::new(verifier))
    }

    /// A layer over an already configured receiver.
    pub fn from_receiver(receiver: Receiver) -> Self {
        Self { receiver: Arc::new(receiver) }
    }

    fn map(self, f: impl FnOnce(Receiver) -> Receiver) -> Self {
        Self::from_receiver(f(Arc::unwrap_or_clone(self.receiver)))
    }

    /// The largest body accepted: refused on `Content-Length` before reading, and enforced while
    /// reading (`413` and the body-too-large reply).
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

    /// What the wrapped route is: the IPN URL (default) or the buyer's browser return.
    pub fn endpoint(self, endpoint: Endpoint) -> Self {
        self.map(|r| r.endpoint(endpoint))
    }

    /// The accepted media types (default: form and JSON); others get `415`.
    pub fn media_types<T: AsRef<str>>(self, media_types: impl IntoIterator<Item = T>) -> Self {
        self.map(|r| r.media_types(media_types))
    }

    /// The clock for signed-date checks (the system clock by default).
    pub fn clock(self, clock: impl Clock + 'static) -> Self {
        self.map(|r| r.clock(clock))
    }

    /// The accepted distance between a signed `Date` and now.
    pub fn max_clock_skew(self, window: Duration) -> Self {
        self.map(|r| r.max_clock_skew(window))
    }

    /// Overrides the status and message of one outcome, for the layer's own replies and for
    /// [`IpnReply`](crate::IpnReply) / [`IpnError`](crate::IpnError) responses of the handler.
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
    /// `408` (see [`Receiver::read_timeout`](ipn_core::Receiver::read_timeout)). The deadline
    /// uses tokio's timer: under a tokio runtime it needs the time driver enabled (as
    /// `#[tokio::main]` and `axum::serve` have); under another executor it is not applied.
    pub fn read_timeout(self, timeout: Duration) -> Self {
        self.map(|r| r.read_timeout(timeout))
    }

    /// Replaces the whole reply table.
    pub fn replies(self, replies: Replies) -> Self {
        self.map(|r| r.replies(replies))
    }

    /// The receiver the layer forwards to.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl<S> Layer<S> for IpnLayer {
    type Service = IpnService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        IpnService::new(inner, Arc::clone(&self.receiver))
    }
}
