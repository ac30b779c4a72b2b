//! The [`Ipn<T>`] extractor: the verified notification that [`IpnMiddleware`](crate::IpnMiddleware)
//! left in the request extensions, as one scheme's type; and [`IpnRejection`], why it could not be
//! extracted.

use std::future::{Ready, ready};

use actix_web::body::BoxBody;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use ipn_core::{FromNotification, Notification, Reply, Scheme};

use crate::response::reply_response;

/// The authenticated notification of the request, typed as `T`: [`Notification`] (any scheme),
/// or one scheme's type ([`FormNotification`](ipn_core::FormNotification),
/// [`RestNotification`](ipn_core::RestNotification), [`LinkNotification`](ipn_core::LinkNotification)).
///
/// Only routes wrapped with [`IpnMiddleware`](crate::IpnMiddleware) have one; see the crate
/// documentation for a whole example. The value is cloned from the request extensions, so several
/// extractors (and the raw body, `web::Bytes`) can be used in the same handler.
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
        let notification = req.extensions().get::<Notification>().cloned();
        ready(notification.ok_or(IpnRejection::MissingLayer).and_then(|n| {
            T::from_notification(n).map(Ipn).map_err(|other| {
                let received = other.scheme();
                // `SCHEME` is `None` only for types that accept every scheme, which never get here.
                IpnRejection::WrongScheme { expected: T::SCHEME.unwrap_or(received), received }
            })
        }))
    }
}

/// Why [`Ipn<T>`] could not be extracted. Answered as a plain-text reply; match on it to build your
/// own response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IpnRejection {
    /// The route is not wrapped with [`IpnMiddleware`](crate::IpnMiddleware): a setup error (500).
    #[error("no verified notification in the request: wrap the route with IpnMiddleware")]
    MissingLayer,
    /// The notification is of another scheme than the handler asks for (400).
    #[error("expected a {expected} notification, received a {received} notification")]
    WrongScheme {
        /// The scheme the handler's `Ipn<T>` asks for.
        expected: Scheme,
        /// The scheme of the notification received.
        received: Scheme,
    },
}

impl IpnRejection {
    /// The HTTP status: 500 for [`MissingLayer`](Self::MissingLayer), 400 for
    /// [`WrongScheme`](Self::WrongScheme).
    pub fn status(&self) -> u16 {
        match self {
            IpnRejection::MissingLayer => 500,
            IpnRejection::WrongScheme { .. } => 400,
        }
    }

    /// The body text (the error's message, at most 256 bytes).
    pub fn body_text(&self) -> String {
        self.to_string()
    }

    fn reply(&self) -> Reply {
        Reply::new(self.status(), self.body_text())
    }
}

impl ResponseError for IpnRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        reply_response(&self.reply())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_have_their_status_and_a_short_body_naming_the_problem() {
        let missing = IpnRejection::MissingLayer;
        assert_eq!(missing.status(), 500);
        assert!(missing.body_text().contains("wrap the route with IpnMiddleware"));
        let wrong = IpnRejection::WrongScheme { expected: Scheme::Rest, received: Scheme::Form };
        assert_eq!(wrong.status(), 400);
        assert_eq!(wrong.body_text(), "expected a rest notification, received a form notification");
        for rejection in [missing, wrong] {
            assert!(rejection.body_text().len() <= ipn_core::MAX_REPLY_BYTES);
            assert_eq!(rejection.status_code().as_u16(), rejection.status());
        }
    }
}
