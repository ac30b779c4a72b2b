//! axum extractors: [`Ipn<T>`] hands the handler the notification [`IpnLayer`](crate::IpnLayer)
//! verified; [`IpnRejection`] says why it could not.

use std::fmt;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use ipn_core::adapter::{ExtractError, Extracted};
use ipn_core::{FromNotification, Notification, Scheme};

use crate::response::reply_response;

/// The verified notification, as a [`Notification`] (any scheme) or one scheme's type
/// ([`FormNotification`](ipn_core::FormNotification), [`RestNotification`](ipn_core::RestNotification),
/// [`LinkNotification`](ipn_core::LinkNotification)).
///
/// The route must be wrapped with [`IpnLayer`](crate::IpnLayer), which verifies the request
/// before the handler runs; the raw body stays readable (extract `Bytes` or `String` after it).
/// The notification is taken out of the request extensions, not copied: extract it once per
/// handler.
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
        let notification = parts.extensions.remove::<Notification>();
        // A second extraction finds the marker the first one left.
        let extracted_before = match notification {
            Some(_) => parts.extensions.insert(Extracted).is_some(),
            None => parts.extensions.get::<Extracted>().is_some(),
        };
        ipn_core::adapter::extract(
            notification,
            extracted_before,
            "IpnLayer, e.g. `.route_layer(IpnLayer::new(verifier))`",
        )
        .map(Ipn)
        .map_err(IpnRejection::from)
    }
}

/// Why [`Ipn<T>`] could not extract a notification: the same variants, status and body as
/// `ipn_actix::IpnRejection` (both come from [`ipn_core::adapter::ExtractError`]).
///
/// Its response is a plain-text reply like the layer's: a status and a short body. The body does
/// not name the fix; the error logged for [`MissingLayer`](Self::MissingLayer) does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpnRejection {
    /// No notification in the request: the route is not wrapped with
    /// [`IpnLayer`](crate::IpnLayer) (`500`: a configuration mistake, and the gateway retries).
    MissingLayer,
    /// Another `Ipn<T>` of the same request already took the notification (it is moved out, not
    /// copied): extract it once per handler (`500`).
    AlreadyExtracted,
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
    fn core(&self) -> ExtractError {
        match self {
            IpnRejection::MissingLayer => ExtractError::MissingLayer,
            IpnRejection::AlreadyExtracted => ExtractError::AlreadyExtracted,
            IpnRejection::WrongScheme { expected, received } => {
                ExtractError::WrongScheme { expected: *expected, received: *received }
            }
        }
    }

    /// The HTTP status: `500` for [`MissingLayer`](Self::MissingLayer) and
    /// [`AlreadyExtracted`](Self::AlreadyExtracted), `400` for [`WrongScheme`](Self::WrongScheme).
    pub fn status(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.core().status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The response body (at most 256 bytes).
    pub fn body_text(&self) -> String {
        self.core().to_string()
    }
}

impl From<ExtractError> for IpnRejection {
    fn from(error: ExtractError) -> Self {
        match error {
            ExtractError::WrongScheme { expected, received } => IpnRejection::WrongScheme { expected, received },
            ExtractError::AlreadyExtracted => IpnRejection::AlreadyExtracted,
            // `ExtractError` is non-exhaustive; a missing notification is what every other case means.
            _ => IpnRejection::MissingLayer,
        }
    }
}

impl fmt::Display for IpnRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.core(), f)
    }
}

impl std::error::Error for IpnRejection {}

impl IntoResponse for IpnRejection {
    fn into_response(self) -> Response {
        reply_response(&self.core().reply())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_bodies_fit_in_a_reply_and_round_trip_through_the_core() {
        let all = [
            IpnRejection::MissingLayer,
            IpnRejection::AlreadyExtracted,
            IpnRejection::WrongScheme { expected: Some(Scheme::Rest), received: Scheme::Form },
            IpnRejection::WrongScheme { expected: None, received: Scheme::Link },
        ];
        for rejection in all {
            assert!(rejection.body_text().len() <= ipn_core::MAX_REPLY_BYTES, "{rejection:?}");
            assert!(!rejection.status().is_success());
            assert_eq!(IpnRejection::from(rejection.core()), rejection);
        }
    }
}
