//! What the adapters' `Ipn<T>` extractors share: taking the verified notification as one
//! scheme's type, and why that can fail, with its status and message.

use std::fmt;

use crate::notification::{FromNotification, Notification};
use crate::reply::Reply;
use crate::types::Scheme;

/// Why a handler could not get the verified notification it asks for.
///
/// The adapters' `IpnRejection` has the same variants; its status and body come from here, so
/// both adapters answer the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractError {
    /// No verified notification in the request: the route is not wrapped by the IPN middleware
    /// (`500`: a configuration mistake, and the gateway retries).
    MissingLayer,
    /// The notification was already taken by another `Ipn<T>` of the same request: the
    /// extractors move it out rather than copy it, so extract it once per handler (`500`: a
    /// programming mistake, and the gateway retries).
    AlreadyExtracted,
    /// The notification is of another scheme than the handler takes (`400`: not processed, so
    /// the gateway retries once the route is fixed).
    WrongScheme {
        /// The scheme the handler takes (`None` when its type names none).
        expected: Option<Scheme>,
        /// The scheme received.
        received: Scheme,
    },
}

impl ExtractError {
    /// The HTTP status: `500` for `MissingLayer` and `AlreadyExtracted`, `400` for `WrongScheme`.
    pub fn status(&self) -> u16 {
        match self {
            ExtractError::MissingLayer | ExtractError::AlreadyExtracted => 500,
            ExtractError::WrongScheme { .. } => 400,
        }
    }

    /// The reply: the status and the message (at most 256 bytes).
    pub fn reply(&self) -> Reply {
        Reply::new(self.status(), self.to_string())
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtractError::MissingLayer => {
                f.write_str("No verified notification: this route is not wrapped by the IPN middleware.")
            }
            ExtractError::AlreadyExtracted => {
                f.write_str("The verified notification was already extracted: take it once per handler.")
            }
            ExtractError::WrongScheme { expected: Some(expected), received } => {
                write!(f, "This endpoint takes {expected} notifications; received a {received} notification.")
            }
            ExtractError::WrongScheme { expected: None, received } => {
                write!(f, "This endpoint does not take {received} notifications.")
            }
        }
    }
}

impl std::error::Error for ExtractError {}

/// What an adapter leaves in a request's extensions when its extractor has taken the
/// notification out, so that a second extraction says so instead of blaming the middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extracted;

/// The verified notification of a request as `T`: `notification` is what the middleware left
/// (`None` when it did not run, or when `extracted_before`: an earlier extractor took it). Logs
/// a missing middleware or a second extraction at error level, naming the adapter's middleware
/// (`fix`), and a scheme mismatch as a warning.
///
/// # Errors
///
/// [`ExtractError`].
///
/// ```
/// use ipn_core::FormNotification;
/// use ipn_core::adapter::{ExtractError, extract};
/// let missing = extract::<FormNotification>(None, false, "IpnLayer").unwrap_err();
/// assert_eq!(missing, ExtractError::MissingLayer);
/// assert_eq!(missing.reply().status(), 500);
/// let again = extract::<FormNotification>(None, true, "IpnLayer").unwrap_err();
/// assert_eq!(again, ExtractError::AlreadyExtracted);
/// ```
pub fn extract<T: FromNotification>(
    notification: Option<Notification>,
    extracted_before: bool,
    fix: &str,
) -> Result<T, ExtractError> {
    let Some(notification) = notification else {
        if extracted_before {
            tracing::error!("{}", ExtractError::AlreadyExtracted);
            return Err(ExtractError::AlreadyExtracted);
        }
        tracing::error!("{} Wrap the route with {fix}.", ExtractError::MissingLayer);
        return Err(ExtractError::MissingLayer);
    };
    T::from_notification(notification).map_err(|other| {
        let error = ExtractError::WrongScheme { expected: T::SCHEME, received: other.scheme() };
        tracing::warn!("{error}");
        error
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_bodies_fit_in_a_reply_and_are_not_acknowledged() {
        let all = [
            ExtractError::MissingLayer,
            ExtractError::AlreadyExtracted,
            ExtractError::WrongScheme { expected: Some(Scheme::Rest), received: Scheme::Form },
            ExtractError::WrongScheme { expected: None, received: Scheme::Link },
        ];
        for error in all {
            let reply = error.reply();
            assert_eq!(reply.body(), error.to_string(), "{error:?}");
            assert!(reply.body().len() <= crate::MAX_REPLY_BYTES, "{error:?}");
            assert!(!reply.is_acknowledged(), "{error:?}");
        }
    }
}
