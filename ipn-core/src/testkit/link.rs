//! CentralBill link notifications: a JSON body with `Date`, `Digest` and an HTTP Signature made
//! with the application secret; and the signature of an outgoing payment link (PROTOCOLS 3.3).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::rest::set_path;
use super::{BuildError, RawRequest, fresh_hex};
use crate::link;
use crate::policy::JSON_MEDIA_TYPE;

/// A realistic CentralBill notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkTemplate {
    /// A completed payment of an invoice (`COMPLETED`).
    Completed,
    /// A refused payment (`REFUSED`).
    Refused,
    /// A payment cancelled by the customer (`CANCELED`).
    Canceled,
    /// A payment waiting for the merchant's validation (`NEEDS_MERCHANT_VALIDATION`).
    NeedsValidation,
}

impl LinkTemplate {
    /// Every template.
    pub const ALL: [LinkTemplate; 4] =
        [LinkTemplate::Completed, LinkTemplate::Refused, LinkTemplate::Canceled, LinkTemplate::NeedsValidation];

    /// `completed`, `refused`, `canceled` or `needs-validation`.
    pub const fn name(self) -> &'static str {
        match self {
            LinkTemplate::Completed => "completed",
            LinkTemplate::Refused => "refused",
            LinkTemplate::Canceled => "canceled",
            LinkTemplate::NeedsValidation => "needs-validation",
        }
    }

    /// The `result.status` it carries.
    pub const fn status(self) -> &'static str {
        match self {
            LinkTemplate::Completed => "COMPLETED",
            LinkTemplate::Refused => "REFUSED",
            LinkTemplate::Canceled => "CANCELED",
            LinkTemplate::NeedsValidation => "NEEDS_MERCHANT_VALIDATION",
        }
    }

    /// The template with this name.
    ///
    /// # Errors
    ///
    /// [`BuildError::UnknownTemplate`], listing the known names.
    pub fn from_name(name: &str) -> Result<Self, BuildError> {
        Self::ALL.into_iter().find(|t| t.name() == name).ok_or_else(|| BuildError::UnknownTemplate {
            scheme: "link",
            name: name.to_owned(),
            known: Self::ALL.map(Self::name).join(", "),
        })
    }
}

/// How the body digest is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DigestStyle {
    /// `Digest: SHA-256=` base64 of the raw hash (RFC 3230).
    #[default]
    Rfc3230,
    /// `Digest: SHA-256=` base64 of the lowercase hex hash, as CentralBill's own example shows.
    HexBase64,
    /// RFC 3230 `Digest` and RFC 9530 `Content-Digest: sha-256=:..:`, both signed (the default
    /// verifier policy requires `digest` to be covered).
    ContentDigest,
}

fn body(template: LinkTemplate, application_id: &str, at: OffsetDateTime) -> Value {
    let issued = at.format(&Rfc3339).unwrap_or_default();
    let due = (at + time::Duration::days(30)).format(&Rfc3339).unwrap_or_default();
    let completed = template == LinkTemplate::Completed;
    json!({
        "id": fresh_hex(24),
        "payment": {
            "id": fresh_hex(24),
            "type": "full",
            "application": {"id": application_id, "name": "Boutique Démo"},
            "extras": [],
            "totalAmountAlreadyPaid": {"amount": if completed { 15000 } else { 0 }, "currency": "XOF"}
        },
        "invoice": {
            "id": "INV-2026-0042",
            "customerId": "CUST-77",
            "totalAmount": {"amount": 15000, "currency": "XOF"},
            "issuedAt": issued,
            "dueDate": due,
            "expiresAt": due
        },
        "paymentFee": {"amount": 150.75, "currency": "XOF"},
        "externalTransactionId": format!("MP{}", fresh_hex(12).to_uppercase()),
        "result": {
            "origin": "processor",
            "status": template.status(),
            "statusReason": match template {
                LinkTemplate::Completed => "Payment completed",
                LinkTemplate::Refused => "Insufficient funds",
                LinkTemplate::Canceled => "Cancelled by the customer",
                LinkTemplate::NeedsValidation => "Waiting for the merchant's validation",
            }
        }
    })
}

/// An HTTP date, IMF-fixdate (`Thu, 01 Dec 2022 19:08:22 GMT`).
pub(crate) fn http_date(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.format(format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"))
        .unwrap_or_default()
}

/// Builds a signed CentralBill notification from a [`LinkTemplate`].
#[derive(Debug, Clone)]
pub struct LinkBuilder {
    body: Value,
    application_id: String,
    date: OffsetDateTime,
    target: String,
    digest: DigestStyle,
    authorization: bool,
}

impl LinkBuilder {
    /// A template for an application, dated now, with fresh ids.
    pub fn new(template: LinkTemplate, application_id: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        Self::from_body(body(template, application_id, now), application_id).date(now)
    }

    /// An arbitrary JSON body.
    pub fn from_body(body: Value, application_id: &str) -> Self {
        Self {
            body,
            application_id: application_id.to_owned(),
            date: OffsetDateTime::now_utc(),
            target: "/ipn/link".to_owned(),
            digest: DigestStyle::default(),
            authorization: false,
        }
    }

    /// The `Date` header's instant (default: now).
    pub fn date(mut self, date: OffsetDateTime) -> Self {
        self.date = date;
        self
    }

    /// The request target, covered by the signature (default `/ipn/link`).
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    /// How the body digest is sent (default RFC 3230 `Digest`).
    pub fn digest(mut self, style: DigestStyle) -> Self {
        self.digest = style;
        self
    }

    /// Also send the signature as `Authorization: Signature ...`, as CentralBill's example does.
    pub fn with_authorization(mut self, both: bool) -> Self {
        self.authorization = both;
        self
    }

    /// Sets a value in the body at a JSON pointer or dotted path.
    ///
    /// # Errors
    ///
    /// [`BuildError::BadPath`] when the path cannot be followed.
    pub fn set(mut self, path: &str, value: Value) -> Result<Self, BuildError> {
        set_path(&mut self.body, path, value)?;
        Ok(self)
    }

    /// The body.
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// The signed request: `Content-Type`, `Date`, the digest header and `Signature` over
    /// `(request-target) content-type date digest` (and `content-digest` when sent).
    ///
    /// # Errors
    ///
    /// [`BuildError::Signing`] when the application id cannot be quoted in the header.
    pub fn sign(&self, secret: &[u8]) -> Result<RawRequest, BuildError> {
        let body = self.body.to_string();
        let mut request = RawRequest::post(self.target.clone(), JSON_MEDIA_TYPE, body.clone());
        request.set_header("Date", http_date(self.date));
        let mut components = vec![link::REQUEST_TARGET, "content-type", "date", "digest"];
        match self.digest {
            DigestStyle::Rfc3230 => request.set_header("Digest", link::digest_header(body.as_bytes())),
            DigestStyle::HexBase64 => request.set_header("Digest", link::digest_header_hex(body.as_bytes())),
            DigestStyle::ContentDigest => {
                request.set_header("Digest", link::digest_header(body.as_bytes()));
                request.set_header("Content-Digest", link::content_digest_header(body.as_bytes()));
                components.push("content-digest");
            }
        }
        let signature = link::sign(request.view(), &self.application_id, secret, &components)
            .map_err(|e| BuildError::Signing(e.to_string()))?;
        if self.authorization {
            request.set_header("Authorization", format!("Signature {signature}"));
        }
        request.set_header("Signature", signature);
        Ok(request)
    }
}

/// The `signature` of an outgoing CentralBill payment link: lowercase hex SHA-256 of
/// `{applicationId},{invoiceId},{customerId},{amount},{currency},{secret}` (PROTOCOLS 3.3).
///
/// ```
/// let s = ipn_core::testkit::payment_link_signature("app", "INV-1", "CUST-1", "15000", "XOF", b"secret");
/// assert_eq!(s.len(), 64);
/// ```
pub fn payment_link_signature(
    application_id: &str,
    invoice_id: &str,
    customer_id: &str,
    amount: &str,
    currency: &str,
    secret: &[u8],
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{application_id},{invoice_id},{customer_id},{amount},{currency},").as_bytes());
    hasher.update(secret);
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date_is_imf_fixdate() {
        let at = link::parse_http_date("Thu, 01 Dec 2022 19:08:22 +0000").unwrap();
        assert_eq!(http_date(at), "Thu, 01 Dec 2022 19:08:22 GMT");
    }

    #[test]
    fn payment_link_signature_is_plain_sha256() {
        let expected = hex::encode(Sha256::digest(b"a,i,c,10,XOF,s"));
        assert_eq!(payment_link_signature("a", "i", "c", "10", "XOF", b"s"), expected);
    }
}
