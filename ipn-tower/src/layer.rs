//! [`IpnLayer`]: the [`tower_layer::Layer`] that wraps an IPN route with [`IpnService`].

use std::sync::Arc;

use ipn_core::Receiver;
use tower_layer::Layer;

use crate::service::IpnService;

/// Wraps a route so that it only ever sees verified notifications.
///
/// Built from a [`Verifier`](ipn_core::Verifier) (what is accepted: keys, TEST mode, body limit,
/// clock...) or a [`Receiver`] around one (how deliveries are answered and recorded: replies,
/// notification store, lease, read timeout): each option is set there, once, and shared with the
/// other adapters. Cheap to clone: the configuration is shared.
///
/// ```
/// use std::time::Duration;
/// use ipn_core::{Keys, Mode, Outcome, Receiver, ShopKeys, Verifier};
/// use ipn_tower::IpnLayer;
///
/// let keys = Keys::builder()
///     .shop(ShopKeys::new("12345678").form_key(Mode::Production, "8877665544332211"))
///     .build()
///     .unwrap();
/// let verifier = Verifier::new(keys)
///     .max_body_bytes(16 * 1024)
///     .accept_test_mode(false)
///     .max_clock_skew(Duration::from_secs(120));
/// let layer = IpnLayer::new(
///     Receiver::new(verifier).reply(Outcome::Processed, 200, "OK-Accepted payment, order has been updated."),
/// );
/// assert_eq!(layer.receiver().max_body_bytes_limit(), 16 * 1024);
/// ```
///
/// See the [crate documentation](crate) for wrapping one route of an axum `Router`.
#[derive(Clone, Debug)]
pub struct IpnLayer {
    receiver: Arc<Receiver>,
}

impl IpnLayer {
    /// A layer over a receiver, or over a verifier with the default replies and no store.
    pub fn new(receiver: impl Into<Receiver>) -> Self {
        Self { receiver: Arc::new(receiver.into()) }
    }

    /// The receiver the layer verifies and answers with.
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
