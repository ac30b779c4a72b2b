//! REST notifications (`kr-*`), PROTOCOLS section 2. PLACEHOLDER: being implemented.

use crate::error::Error;
use crate::fingerprint::{Fingerprint, FingerprintBuilder};
use crate::form::{FormFields, Nature};
use crate::keys::KeyStore;
use crate::money::Amount;
use crate::types::{Mode, Scheme, StatusClass};
use crate::verifier::Policy;

/// An authenticated REST notification (`kr-answer` of type `V4/Payment`).
#[derive(Debug, Clone)]
pub struct RestNotification {
    shop_id: String,
}

impl RestNotification {
    /// The shop id (`shopId`).
    pub fn shop_id(&self) -> &str {
        &self.shop_id
    }
    /// TEST or PRODUCTION (`orderDetails.mode`).
    pub fn mode(&self) -> Option<Mode> {
        None
    }
    /// The order reference (`orderDetails.orderId`).
    pub fn order_id(&self) -> Option<&str> {
        None
    }
    /// The first transaction's `uuid`.
    pub fn transaction_id(&self) -> Option<&str> {
        None
    }
    /// The first transaction's amount, or the order total.
    pub fn amount(&self) -> Option<Amount> {
        None
    }
    /// The first transaction's `detailedStatus`, or the `orderStatus`.
    pub fn status(&self) -> Option<&str> {
        None
    }
    /// The class of the status.
    pub fn status_class(&self) -> StatusClass {
        StatusClass::Unknown
    }
    /// Why it was sent (from `kr-src`).
    pub fn nature(&self) -> Nature {
        Nature::Unknown
    }
    /// The idempotency fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut b = FingerprintBuilder::new(Scheme::Rest);
        b.field("shopId", Some(&self.shop_id));
        b.finish()
    }
}

/// `kr-hash` of an answer: lowercase hex HMAC-SHA-256 of the answer with every `\/` read as `/`.
///
/// ```
/// assert_eq!(
///     ipn_core::rest::kr_hash("", b"ktM7bSeTJpclvpm4eEE9N0LIyoxUvsQ9AAYbQI1xQx7Qh"),
///     "a95c2b13d50d57858ff38e7abd76c39d644fd5d1cfdcc360e4c61f2fc48d4a5e"
/// );
/// ```
pub fn kr_hash(answer: &str, key: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for (i, piece) in answer.split("\\/").enumerate() {
        if i > 0 {
            mac.update(b"/");
        }
        mac.update(piece.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

pub(crate) async fn verify(
    _fields: &FormFields,
    _keys: &dyn KeyStore,
    _policy: &Policy,
) -> Result<RestNotification, Error> {
    Err(Error::UnknownScheme)
}
