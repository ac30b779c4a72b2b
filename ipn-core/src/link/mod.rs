//! CentralBill link notifications (JSON + draft-cavage HTTP Signatures), PROTOCOLS section 3.
//! PLACEHOLDER: being implemented.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use crate::error::Error;
use crate::fingerprint::{Fingerprint, FingerprintBuilder};
use crate::keys::KeyStore;
use crate::money::Amount;
use crate::request::RequestView;
use crate::types::{Scheme, StatusClass, wire_enum};
use crate::verifier::Policy;

/// The components a link signature must cover by default.
pub const DEFAULT_REQUIRED_COMPONENTS: [&str; 3] = ["(request-target)", "date", "digest"];

/// Parses an HTTP date: IMF-fixdate (`Thu, 01 Dec 2022 19:08:22 GMT`) or with a numeric zone
/// (`Thu, 01 Dec 2022 19:08:22 +0000`).
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc2822).ok()
}

/// The `signature` parameter for a signing string: base64 of HMAC-SHA-256 with the application
/// secret.
///
/// ```
/// let s = "(request-target): post /ipn/link\ndate: Thu, 01 Dec 2022 19:08:22 +0000";
/// assert_eq!(ipn_core::link::signature(s, b"app!secret").len(), 44);
/// ```
pub fn signature(signing_string: &str, secret: &[u8]) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(signing_string.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

wire_enum! {
    /// A CentralBill payment result (`result.status`).
    LinkStatus {
        Completed = "COMPLETED",
        NeedsMerchantValidation = "NEEDS_MERCHANT_VALIDATION",
        Canceled = "CANCELED",
        Refused = "REFUSED",
        Failed = "FAILED",
        Reversed = "REVERSED",
        Pending = "PENDING",
        Processing = "PROCESSING",
    }
}

impl LinkStatus {
    /// The class, following CentralBill's own plugin.
    pub fn class(&self) -> StatusClass {
        match self {
            LinkStatus::Completed => StatusClass::Accepted,
            LinkStatus::Pending | LinkStatus::Processing | LinkStatus::NeedsMerchantValidation => StatusClass::Pending,
            LinkStatus::Canceled => StatusClass::Cancelled,
            LinkStatus::Refused | LinkStatus::Reversed | LinkStatus::Failed => StatusClass::Failed,
            LinkStatus::Unknown(_) => StatusClass::Unknown,
        }
    }
}

/// An authenticated CentralBill notification.
#[derive(Debug, Clone)]
pub struct LinkNotification {
    application_id: String,
    id: String,
    status: LinkStatus,
}

impl LinkNotification {
    /// The application id (the signature's `keyId`).
    pub fn application_id(&self) -> &str {
        &self.application_id
    }
    /// The notification id (`id`).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The invoice id.
    pub fn order_id(&self) -> Option<&str> {
        None
    }
    /// The invoice total.
    pub fn amount(&self) -> Option<Amount> {
        None
    }
    /// The result status.
    pub fn status(&self) -> &LinkStatus {
        &self.status
    }
    /// The idempotency fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut b = FingerprintBuilder::new(Scheme::Link);
        b.field("id", Some(&self.id));
        b.finish()
    }
}

pub(crate) async fn verify(
    _request: RequestView<'_>,
    _keys: &dyn KeyStore,
    _policy: &Policy,
) -> Result<LinkNotification, Error> {
    Err(Error::UnknownScheme)
}
