//! The [`Ipn<T>`] extractor: the verified notification that [`IpnMiddleware`](crate::IpnMiddleware)
//! left in the request extensions, as one scheme's type; and [`IpnRejection`], why it could not be
//! extracted.

use std::fmt;
use std::future::{Ready, ready};

use actix_web::body::BoxBody;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use ipn_core::adapter::{ExtractError, Extracted};
use ipn_core::{FromNotification, Notification, Scheme};

use crate::response::reply_response;

/// The authenticated notification of the request, typed as `T`: [`Notification`] (any scheme),
/// or one scheme's type ([`FormNotification`](ipn_core::FormNotification),
/// [`RestNotification`](ipn_core::RestNotification), [`LinkNotification`](ipn_core::LinkNotification)).
///
/// Only routes wrapped with [`IpnMiddleware`](crate::IpnMiddleware) have one; see the crate
/// documentation for a whole example. The value is taken out of the request extensions, not
/// copied: extract it once per handler (the raw body, `web::Bytes`, stays readable).
///
/// # Errors
///
/// [`IpnRejection::MissingLayer`] when the route is not wrapped (500),
/// [`IpnRejection::WrongScheme`] when the notification is of another scheme than `T` (400).
#[derive(Debug, Clone)]
pub struct Ipn<T>(pub T);

impl<T: FromNotification> FromRequest for Ipn<T> {
    type Error = IpnRejection;
    type Future = Ready<Result<Self, IpnRejection>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let (notification, extracted_before) = {
            let mut extensions = req.extensions_mut();
            let notification = extensions.remove::<Notification>();
            // A second extraction finds the marker the first one left.
            let extracted_before = match notification {
                Some(_) => extensions.insert(Extracted).is_some(),
                None => extensions.get::<Extracted>().is_some(),
            };
            (notification, extracted_before)
        };
        ready(
            ipn_core::adapter::extract(notification, extracted_before, "IpnMiddleware")
                .map(Ipn)
                .map_err(IpnRejection::from),
        )
    }
}

/// Why [`Ipn<T>`] could not be extracted: the same variants, status and body as
/// `ipn_tower::IpnRejection` (both come from [`ipn_core::adapter::ExtractError`]). Answered as a plain-text
/// reply; match on it to build your own response. The body does not name the fix; the error
/// logged for [`MissingLayer`](Self::MissingLayer) does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpnRejection {
    /// The route is not wrapped with [`IpnMiddleware`](crate::IpnMiddleware): a setup error (500).
    MissingLayer,
    /// Another `Ipn<T>` of the same request already took the notification (it is moved out, not
    /// copied): extract it once per handler (`500`).
    AlreadyExtracted,
    /// The notification is of another scheme than the handler asks for (400).
    WrongScheme {
        /// The scheme the handler's `Ipn<T>` asks for (`None` when its type names none).
        expected: Option<Scheme>,
        /// The scheme of the notification received.
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
    pub fn status(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.core().status())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
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

impl ResponseError for IpnRejection {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        reply_response(&self.core().reply())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_have_their_status_and_a_short_body_naming_the_problem() {
        let missing = IpnRejection::MissingLayer;
        assert_eq!(missing.status(), 500);
        assert!(missing.body_text().contains("not wrapped by the IPN middleware"));
        let wrong = IpnRejection::WrongScheme { expected: Some(Scheme::Rest), received: Scheme::Form };
        assert_eq!(wrong.status(), 400);
        assert_eq!(wrong.body_text(), "This endpoint takes rest notifications; received a form notification.");
        for rejection in [missing, wrong] {
            assert!(rejection.body_text().len() <= ipn_core::MAX_REPLY_BYTES);
            assert_eq!(rejection.status_code().as_u16(), rejection.status());
            assert_eq!(IpnRejection::from(rejection.core()), rejection);
        }
    }
}
