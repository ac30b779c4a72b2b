//! The one error type of the core: each variant says at which stage a delivery stopped and maps
//! to one [`Outcome`], hence to one reply.

use std::fmt;

use crate::fingerprint::Fingerprint;
use crate::policy::{
    MAX_SIGNATURE_HEADER_LEN, MAX_SIGNATURE_PARAMETERS, MAX_SIGNED_COMPONENTS, MAX_SIGNING_STRING_LEN,
};
use crate::reply::Outcome;
use crate::text::{Printable, printable, printable_owned};
use crate::types::Scheme;

/// Why a notification was not accepted.
///
/// Messages never contain a secret nor a computed signature. Signature failures are deliberately
/// coarse in the reply the gateway sees; the variant carries the detail for logs and the CLI.
///
/// Text that came from the request (a method, a media type, a shop id, a header name, a field
/// name in a reason...) is [`Printable`](crate::trace::Printable): control characters escaped, at
/// most [`MAX_PRINTED_CHARS`](crate::trace::MAX_PRINTED_CHARS) characters. The core stores it so
/// in the fields it fills, and every message prints it so again, whoever built the variant: a
/// message is one line, safe in a log, a terminal or a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is empty.
    #[error("the notification body is empty")]
    EmptyBody,
    /// The request method is not POST.
    #[error("notifications are POSTed; got {}", Printable(.method))]
    MethodNotAllowed {
        /// The method received.
        method: String,
    },
    /// The content type is not one of the accepted ones.
    #[error("unsupported content type {:?}", Printable(.media_type))]
    UnsupportedMediaType {
        /// The media type received (empty when the header is missing).
        media_type: String,
    },
    /// The body exceeds the configured limit.
    #[error("the body exceeds the {limit}-byte limit")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read to its end: the client went away, or the stream broke.
    #[error("the notification body could not be read: {}", Printable(.reason))]
    BodyUnreadable {
        /// What the transport said (never a secret: no body byte is in it).
        reason: String,
    },
    /// The body did not arrive within the receiver's read timeout (a stalled or endless stream).
    #[error("the notification body was not read within {timeout_ms} ms")]
    ReadTimeout {
        /// The timeout in milliseconds.
        timeout_ms: u128,
    },
    /// The body matches no known scheme.
    #[error("not a notification: no vads_* fields, no kr-* fields, no signed JSON")]
    UnknownScheme,
    /// The body or a header could not be decoded.
    #[error("malformed {scheme} notification: {}", Printable(.reason))]
    Malformed {
        /// The scheme that was being read.
        scheme: Scheme,
        /// What is wrong, in words (never a secret).
        reason: String,
    },
    /// A field the scheme requires is missing.
    #[error("{scheme} notification without the required field {field}")]
    MissingField {
        /// The scheme.
        scheme: Scheme,
        /// The wire name of the field.
        field: &'static str,
    },
    /// A form field the gateway does not send, nor the configuration adds (PROTOCOLS 1.1 item 8:
    /// names are not signed, so a name outside the dictionary is refused rather than read).
    #[error(
        "unknown form field {}: not a field the gateway sends (add it to the configuration if it now does)",
        Printable(.name)
    )]
    UnknownField {
        /// The name received, escaped and cut to 64 characters.
        name: String,
    },
    /// A form field whose value its documented format forbids.
    #[error("form field {} has an invalid value: {reason}", Printable(.name))]
    InvalidField {
        /// The field's name, escaped and cut to 64 characters.
        name: String,
        /// What the format expects.
        reason: &'static str,
    },
    /// No key is configured for the shop (form, REST).
    #[error("no key configured for shop {}", Printable(.shop_id))]
    UnknownShop {
        /// The shop id read from the notification (not yet authenticated).
        shop_id: String,
    },
    /// No secret is configured for the application (link).
    #[error("no secret configured for application {}", Printable(.application_id))]
    UnknownApplication {
        /// The `keyId` read from the signature header (not yet authenticated).
        application_id: String,
    },
    /// The signature does not match any configured key.
    #[error("signature mismatch")]
    SignatureMismatch,
    /// The algorithm named or implied by the request is not the one accepted.
    #[error("unsupported signature algorithm {:?}", Printable(.algorithm))]
    UnsupportedAlgorithm {
        /// The algorithm received.
        algorithm: String,
    },
    /// A form notification signed with SHA-1 for a shop not configured for it.
    #[error("SHA-1 signature received but the shop is configured for HMAC-SHA-256")]
    Sha1NotAllowed,
    /// `kr-hash-key` names another key than the endpoint expects.
    #[error("kr-hash-key is {:?} but this endpoint expects {expected:?}", Printable(.received))]
    KeyKindMismatch {
        /// What the endpoint expects (`password` or `sha256_hmac`).
        expected: &'static str,
        /// What was received.
        received: String,
    },
    /// A browser return posted to the IPN endpoint, or an IPN to the return endpoint.
    #[error("{0}")]
    WrongEndpoint(&'static str),
    /// An HTTP Signature does not cover a header the policy requires.
    #[error("the signature does not cover {}", Printable(.component))]
    NotCovered {
        /// The missing component (`date`, `digest`, `(request-target)`).
        component: String,
    },
    /// A header listed in the signature, or required, is missing from the request.
    #[error("missing header {}", Printable(.header))]
    MissingHeader {
        /// The header name.
        header: String,
    },
    /// A link signature goes past one of the bounds that keep its verification cheap (its
    /// header's length, its parameters, its components, its signing string): refused before any
    /// signing string is built or HMAC computed.
    #[error("link signature refused: {0}")]
    LinkBound(LinkBound),
    /// The body digest does not match the `Digest` or `Content-Digest` header.
    #[error("the body does not match its digest")]
    DigestMismatch,
    /// The signed `Date` is outside the accepted window.
    #[error("request date {skew_s} s away from now, outside the {window_s} s window")]
    StaleRequest {
        /// Signed seconds between the request's date and now (negative: in the past).
        skew_s: i64,
        /// The window in seconds.
        window_s: u64,
    },
    /// An authentic TEST-mode notification, refused by policy.
    #[error("TEST mode notification refused by policy")]
    TestModeRefused,
    /// The gateway's REST API contradicts the form notification, or knows no such transaction:
    /// a forged or re-labelled notification (see [`ShopKeys::confirm_with`](crate::ShopKeys::confirm_with)).
    #[error("not confirmed by the gateway: {reason}")]
    NotConfirmed {
        /// What differs (the values are escaped).
        reason: String,
    },
    /// The gateway's REST API could not confirm the notification now: unreachable, too slow,
    /// refused the REST password, answered something else. `503`: the gateway retries.
    #[error("gateway API unavailable: {reason}")]
    ConfirmationUnavailable {
        /// Why (never a secret).
        reason: String,
    },
    /// The key store could not be reached.
    #[error("key store unavailable")]
    KeyStore(#[source] crate::keys::KeyStoreError),
    /// The notification was processed before: the recorded reply is sent again.
    #[error("notification {fingerprint} already processed")]
    AlreadyProcessed {
        /// The notification's fingerprint.
        fingerprint: Fingerprint,
    },
    /// Another delivery of the same notification holds the claim (409: the gateway retries).
    #[error("notification {fingerprint} is being processed by another delivery")]
    InProgress {
        /// The notification's fingerprint.
        fingerprint: Fingerprint,
    },
    /// The notification store could not be reached; the handler was not called.
    #[error("notification store unavailable")]
    Store(#[source] crate::store::StoreError),
}

/// Which bound a received link signature went past (see the constants of [`link`](crate::link)).
/// Each is reported as [`Error::LinkBound`], answered like any malformed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkBound {
    /// A signature header longer than [`MAX_SIGNATURE_HEADER_LEN`].
    HeaderLength {
        /// The header (`Signature`, `Authorization`, `Signature-Input`).
        header: &'static str,
    },
    /// More parameters than [`MAX_SIGNATURE_PARAMETERS`].
    Parameters,
    /// More covered components than [`MAX_SIGNED_COMPONENTS`].
    Components,
    /// A component covered twice: it only makes the signing string longer.
    RepeatedComponent,
    /// A signing string or signature base longer than [`MAX_SIGNING_STRING_LEN`].
    SigningString,
}

impl fmt::Display for LinkBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkBound::HeaderLength { header } => {
                write!(f, "the {header} header is longer than {MAX_SIGNATURE_HEADER_LEN} bytes")
            }
            LinkBound::Parameters => write!(f, "more than {MAX_SIGNATURE_PARAMETERS} signature parameters"),
            LinkBound::Components => write!(f, "more than {MAX_SIGNED_COMPONENTS} signed components"),
            LinkBound::RepeatedComponent => f.write_str("a signed component is listed twice"),
            LinkBound::SigningString => write!(f, "the signing string would exceed {MAX_SIGNING_STRING_LEN} bytes"),
        }
    }
}

impl From<LinkBound> for Error {
    fn from(bound: LinkBound) -> Self {
        Error::LinkBound(bound)
    }
}

impl Error {
    /// The outcome, hence the reply, this error leads to.
    pub fn outcome(&self) -> Outcome {
        match self {
            Error::EmptyBody => Outcome::EmptyPost,
            Error::MethodNotAllowed { .. } => Outcome::MethodNotAllowed,
            Error::UnsupportedMediaType { .. } => Outcome::UnsupportedMediaType,
            Error::BodyTooLarge { .. } => Outcome::BodyTooLarge,
            Error::ReadTimeout { .. } => Outcome::RequestTimeout,
            // Nothing verifiable arrived; a non-2xx reply lets the gateway retry.
            Error::BodyUnreadable { .. }
            | Error::UnknownScheme
            | Error::Malformed { .. }
            | Error::MissingField { .. }
            | Error::UnknownField { .. }
            | Error::InvalidField { .. }
            | Error::LinkBound(_) => Outcome::Malformed,
            Error::UnknownShop { .. } | Error::UnknownApplication { .. } => Outcome::UnknownShop,
            Error::SignatureMismatch
            | Error::UnsupportedAlgorithm { .. }
            | Error::Sha1NotAllowed
            | Error::KeyKindMismatch { .. }
            | Error::NotCovered { .. }
            | Error::MissingHeader { .. }
            | Error::DigestMismatch => Outcome::BadSignature,
            Error::StaleRequest { .. } => Outcome::StaleRequest,
            Error::WrongEndpoint(_) => Outcome::WrongEndpoint,
            Error::TestModeRefused => Outcome::TestModeRefused,
            Error::KeyStore(_) | Error::Store(_) => Outcome::StoreUnavailable,
            Error::NotConfirmed { .. } => Outcome::NotConfirmed,
            Error::ConfirmationUnavailable { .. } => Outcome::GatewayUnavailable,
            Error::AlreadyProcessed { .. } => Outcome::AlreadyProcessed,
            Error::InProgress { .. } => Outcome::InProgress,
        }
    }

    /// A malformed notification; the reason may embed received text.
    pub(crate) fn malformed(scheme: Scheme, reason: impl Into<String>) -> Self {
        Error::Malformed { scheme, reason: printable_owned(reason.into()) }
    }

    /// A request that is not a POST.
    pub(crate) fn method_not_allowed(method: &str) -> Self {
        Error::MethodNotAllowed { method: printable(method).into_owned() }
    }

    /// A media type that is not accepted.
    pub(crate) fn unsupported_media_type(media_type: &str) -> Self {
        Error::UnsupportedMediaType { media_type: printable(media_type).into_owned() }
    }

    /// No key for the shop id the notification claims.
    pub(crate) fn unknown_shop(shop_id: &str) -> Self {
        Error::UnknownShop { shop_id: printable(shop_id).into_owned() }
    }

    /// No secret for the application id (`keyId`) the signature claims.
    pub(crate) fn unknown_application(application_id: &str) -> Self {
        Error::UnknownApplication { application_id: printable(application_id).into_owned() }
    }

    /// An algorithm the request names and the verifier does not accept.
    pub(crate) fn unsupported_algorithm(algorithm: &str) -> Self {
        Error::UnsupportedAlgorithm { algorithm: printable(algorithm).into_owned() }
    }
}
