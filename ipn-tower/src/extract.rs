//! axum extractors: [`Ipn<T>`] hands the handler the notification [`IpnLayer`](crate::IpnLayer)
//! verified; [`IpnRejection`] says why it could not.

use std::fmt;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use ipn_core::{FromNotification, Notification, Reply, Scheme};

use crate::response::reply_response;

/// The verified notification, as a [`Notification`] (any scheme) or one scheme's type
/// ([`FormNotification`](ipn_core::FormNotification), [`RestNotification`](ipn_core::RestNotification),
/// [`LinkNotification`](ipn_core::LinkNotification)).
///
/// The route must be wrapped with [`IpnLayer`](crate::IpnLayer), which verifies the request
/// before the handler runs; the raw body stays readable (extract `Bytes` or `String` after it).
///
/// ```
/// use ipn_core::{FormNotification, Notification};
/// use ipn_tower::{Ipn, IpnReply};
///
/// async fn any_scheme(Ipn(notification): Ipn<Notification>) -> IpnReply {
///     tracing::info!(order = ?notification.order_id(), "paid");
///     IpnReply::order_updated()
/// }
///
/// async fn form_only(Ipn(notification): Ipn<FormNotification>, raw: String) -> IpnReply {
///     assert!(raw.contains("vads_site_id="));
///     IpnReply::order_updated()
/// }
/// # let _ = (any_scheme, form_only);
/// ```
#[derive(Debug, Clone)]
pub struct Ipn<T>(pub T);

impl<T, S> FromRequestParts<S> for Ipn<T>
where
    T: FromNotification + Send,
    S: Send + Sync,
{
    type Rejection = IpnRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(notification) = parts.extensions.get::<Notification>().cloned() else {
            tracing::error!("{}", IpnRejection::MissingLayer);
            return Err(IpnRejection::MissingLayer);
        };
        T::from_notification(notification).map(Ipn).map_err(|other| {
            let rejection = IpnRejection::WrongScheme { expected: T::SCHEME, received: other.scheme() };
            tracing::warn!("{rejection}");
            rejection
        })
    }
}

/// Why [`Ipn<T>`] could not extract a notification.
///
/// Its response is a plain-text reply like the layer's: a status and a short body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpnRejection {
    /// No notification in the request: the route is not wrapped with
    /// [`IpnLayer`](crate::IpnLayer) (`500`: a configuration mistake, and the gateway retries).
    MissingLayer,
    /// The notification is of another scheme than the handler takes (`400`: not processed, so
    /// the gateway retries once the route is fixed).
    WrongScheme {
        /// The scheme the handler takes (`None` when its type does not name one).
        expected: Option<Scheme>,
        /// The scheme received.
        received: Scheme,
    },
}

impl IpnRejection {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            IpnRejection::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
            IpnRejection::WrongScheme { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// The response body (at most 256 bytes).
    pub fn body_text(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for IpnRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpnRejection::MissingLayer => f.write_str(
                "No verified notification: wrap this route with IpnLayer, e.g. `.route_layer(IpnLayer::new(verifier))`.",
            ),
            IpnRejection::WrongScheme { expected: Some(expected), received } => {
                write!(f, "This endpoint takes {expected} notifications; received a {received} notification.")
            }
            IpnRejection::WrongScheme { expected: None, received } => {
                write!(f, "This endpoint does not take {received} notifications.")
            }
        }
    }
}

impl std::error::Error for IpnRejection {}

impl IntoResponse for IpnRejection {
    fn into_response(self) -> Response {
        reply_response(&Reply::new(self.status().as_u16(), self.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_bodies_fit_in_a_reply() {
        let all = [
            IpnRejection::MissingLayer,
            IpnRejection::WrongScheme { expected: Some(Scheme::Rest), received: Scheme::Form },
            IpnRejection::WrongScheme { expected: None, received: Scheme::Link },
        ];
        for rejection in all {
            assert!(rejection.body_text().len() <= ipn_core::MAX_REPLY_BYTES, "{rejection:?}");
            assert!(!rejection.status().is_success());
        }
    }
}
