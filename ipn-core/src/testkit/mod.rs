//! Signed notifications for tests (feature `testkit`): realistic templates of what each gateway
//! sends, builders to change any field, and signing with the merchant's key into a complete raw
//! request ([`RawRequest`]) that a verifier, a web adapter or a real server can be fed.
//!
//! The CLI (`ipn sign`, `ipn gateway`) is built on it; tests of merchant applications can use it
//! too. Nothing here is needed to verify notifications.
//!
//! ```
//! use ipn_core::testkit::{FormBuilder, FormTemplate};
//! use ipn_core::{FormAlgorithm, Keys, Mode, ShopKeys, Verifier};
//!
//! let request = FormBuilder::new(FormTemplate::Accepted, "12345678")
//!     .mode(Mode::Test)
//!     .set("vads_amount", "1000")
//!     .sign(b"1122334455667788", FormAlgorithm::HmacSha256);
//!
//! // A TEST notification: the shop opts in to TEST mode (refused by default).
//! let shop = ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788").accept_test_mode(true);
//! let keys = Keys::builder().shop(shop).build().unwrap();
//! let notification = pollster::block_on(Verifier::new(keys).verify(request.view())).unwrap();
//! assert_eq!(notification.amount().unwrap().to_string(), "10.00 EUR");
//! ```

mod form;
mod link;
pub mod relabel;
mod request;
mod rest;

pub use form::{FormBuilder, FormTemplate, naive_form_check};
pub use link::{DigestStyle, LinkBuilder, LinkTemplate, payment_link_signature};
pub use request::RawRequest;
pub use rest::{RestBuilder, RestTemplate};

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// A template or an override that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No template has this name.
    #[error("unknown {scheme} template {name:?} (known: {known})")]
    UnknownTemplate {
        /// The scheme.
        scheme: &'static str,
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// A path into a JSON document cannot be followed or created.
    #[error("cannot set {path:?}: {reason}")]
    BadPath {
        /// The path given (JSON pointer or dotted path).
        path: String,
        /// Why.
        reason: String,
    },
    /// The request cannot be signed (a header value that cannot be quoted...).
    #[error("cannot sign: {0}")]
    Signing(String),
}

/// A fresh lowercase hex reference of `len` characters (at most 64), such as a
/// `vads_trans_uuid` (32): unique within the process and very likely across processes (time,
/// process id and a counter, hashed).
///
/// ```
/// let uuid = ipn_core::testkit::fresh_hex(32);
/// assert_eq!(uuid.len(), 32);
/// assert_ne!(uuid, ipn_core::testkit::fresh_hex(32));
/// ```
pub fn fresh_hex(len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = Sha256::new();
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    hasher.update(nanos.to_le_bytes());
    let mut out = hex::encode(hasher.finalize());
    out.truncate(len.min(64));
    out
}

/// Six decimal digits derived from a fresh value (a `vads_trans_id`).
pub(crate) fn fresh_digits(len: usize) -> String {
    fresh_hex(64).bytes().map(|b| char::from(b'0' + b % 10)).take(len).collect()
}
