//! REST notifications (`kr-*`): a V4/Payment answer, changed with JSON paths, signed with the
//! REST password (IPN) or the REST HMAC-SHA-256 key (browser return).

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{BuildError, RawRequest, fresh_digits, fresh_hex};
use crate::policy::FORM_MEDIA_TYPE;
use crate::rest::kr_hash;
use crate::types::{Endpoint, Mode};

/// A realistic REST answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RestTemplate {
    /// A paid order (`PAID`, `CLOSED`, one `AUTHORISED` card transaction).
    Payment,
    /// A refused payment, order closed (`UNPAID`, `CLOSED`, one `REFUSED` transaction).
    Refused,
}

impl RestTemplate {
    /// Every template.
    pub const ALL: [RestTemplate; 2] = [RestTemplate::Payment, RestTemplate::Refused];

    /// `payment` or `refused`.
    pub const fn name(self) -> &'static str {
        match self {
            RestTemplate::Payment => "payment",
            RestTemplate::Refused => "refused",
        }
    }

    /// The template with this name.
    ///
    /// # Errors
    ///
    /// [`BuildError::UnknownTemplate`], listing the known names.
    pub fn from_name(name: &str) -> Result<Self, BuildError> {
        Self::ALL.into_iter().find(|t| t.name() == name).ok_or_else(|| BuildError::UnknownTemplate {
            scheme: "rest",
            name: name.to_owned(),
            known: Self::ALL.map(Self::name).join(", "),
        })
    }
}

fn transaction(paid: bool, shop_id: &str, date: &str) -> Value {
    json!({
        "shopId": shop_id,
        "uuid": fresh_hex(32),
        "amount": 4525,
        "currency": "EUR",
        "paymentMethodType": "CARD",
        "paymentMethodToken": null,
        "status": if paid { "PAID" } else { "UNPAID" },
        "detailedStatus": if paid { "AUTHORISED" } else { "REFUSED" },
        "operationType": "DEBIT",
        "effectiveStrongAuthentication": "ENABLED",
        "creationDate": date,
        "errorCode": if paid { Value::Null } else { json!("PSP_099") },
        "errorMessage": if paid { Value::Null } else { json!("Too many attempts") },
        "detailedErrorCode": if paid { Value::Null } else { json!("05") },
        "detailedErrorMessage": if paid { Value::Null } else { json!("Do not honor") },
        "metadata": null,
        "transactionDetails": {
            "liabilityShift": "YES",
            "effectiveAmount": 4525,
            "effectiveCurrency": "EUR",
            "creationContext": "CHARGE",
            "sequenceNumber": 1,
            "parentTransactionUuid": null,
            "cardDetails": {
                "paymentSource": "EC",
                "manualValidation": "NO",
                "effectiveBrand": "CB",
                "pan": "497010XXXXXX0055",
                "expiryMonth": 6,
                "expiryYear": 2029,
                "country": "FR",
                "legacyTransId": fresh_digits(6),
                "_type": "V4/PaymentMethod/Details/CardDetails"
            },
            "_type": "V4/TransactionDetails"
        },
        "_type": "V4/PaymentTransaction"
    })
}

fn answer(template: RestTemplate, shop_id: &str, at: OffsetDateTime) -> Value {
    let date = at.format(&Rfc3339).unwrap_or_default();
    let paid = template == RestTemplate::Payment;
    json!({
        "shopId": shop_id,
        "orderCycle": "CLOSED",
        "orderStatus": if paid { "PAID" } else { "UNPAID" },
        "serverDate": date,
        "orderDetails": {
            "orderTotalAmount": 4525,
            "orderEffectiveAmount": 4525,
            "orderCurrency": "EUR",
            "mode": "TEST",
            "orderId": "ORDER-1042",
            "_type": "V4/OrderDetails"
        },
        "customer": {
            "email": "jeanne.dupont@example.com",
            "reference": "CUST-77",
            "billingDetails": {"firstName": "Jeanne", "lastName": "Dupont", "country": "FR", "language": "FR",
                               "_type": "V4/Customer/BillingDetails"},
            "_type": "V4/Customer/Customer"
        },
        "transactions": [transaction(paid, shop_id, &date)],
        "_type": "V4/Payment"
    })
}

/// Sets `new` at `path` in a JSON document: a JSON pointer (`/orderDetails/orderId`) or a dotted
/// path (`orderDetails.orderId`, `transactions.0.amount`). Missing objects on the way are
/// created; array indexes must exist.
pub(crate) fn set_path(doc: &mut Value, path: &str, new: Value) -> Result<(), BuildError> {
    let bad = |reason: &str| BuildError::BadPath { path: path.to_owned(), reason: reason.to_owned() };
    let segments: Vec<String> = match path.strip_prefix('/') {
        Some(pointer) => pointer.split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect(),
        None => path.split('.').map(str::to_owned).collect(),
    };
    if path.is_empty() || segments.iter().any(String::is_empty) {
        return Err(bad("empty path segment"));
    }
    let mut node = doc;
    for segment in &segments {
        if node.is_null() {
            *node = Value::Object(serde_json::Map::new());
        }
        node = match node {
            Value::Object(map) => map.entry(segment.clone()).or_insert(Value::Null),
            Value::Array(items) => {
                let index: usize = segment.parse().map_err(|_| bad("an array index must be a number"))?;
                let len = items.len();
                items.get_mut(index).ok_or_else(|| bad(&format!("index {index} out of {len} items")))?
            }
            _ => return Err(bad(&format!("{segment:?} is inside a value that is neither an object nor an array"))),
        };
    }
    *node = new;
    Ok(())
}

/// Builds a signed REST notification from a [`RestTemplate`].
#[derive(Debug, Clone)]
pub struct RestBuilder {
    answer: Value,
    src: Option<String>,
    escape_slashes: bool,
    target: String,
}

impl RestBuilder {
    /// A template for a shop, dated now, with fresh references, in TEST mode.
    pub fn new(template: RestTemplate, shop_id: &str) -> Self {
        Self::from_answer(answer(template, shop_id, OffsetDateTime::now_utc()))
    }

    /// An arbitrary answer (a JSON object).
    pub fn from_answer(answer: Value) -> Self {
        Self { answer, src: Some("PAY".to_owned()), escape_slashes: true, target: "/ipn".to_owned() }
    }

    /// Sets `orderDetails.mode`.
    pub fn mode(mut self, mode: Mode) -> Self {
        // The path is fixed and valid: this cannot fail on an object answer.
        let _ = set_path(&mut self.answer, "orderDetails.mode", Value::String(mode.as_str().to_owned()));
        self
    }

    /// Sets a value in the answer at a JSON pointer or dotted path.
    ///
    /// # Errors
    ///
    /// [`BuildError::BadPath`] when the path cannot be followed.
    pub fn set(mut self, path: &str, value: Value) -> Result<Self, BuildError> {
        set_path(&mut self.answer, path, value)?;
        Ok(self)
    }

    /// `kr-src` (default `PAY`); `None` leaves it out.
    pub fn src(mut self, src: Option<&str>) -> Self {
        self.src = src.map(str::to_owned);
        self
    }

    /// Whether `/` is written `\/` in `kr-answer`, as the gateway's PHP does (default: yes).
    pub fn escape_slashes(mut self, escape: bool) -> Self {
        self.escape_slashes = escape;
        self
    }

    /// The request target (default `/ipn`).
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    /// The answer.
    pub fn answer(&self) -> &Value {
        &self.answer
    }

    /// The `kr-answer` string as it will be posted.
    pub fn answer_text(&self) -> String {
        let text = self.answer.to_string();
        if self.escape_slashes { text.replace('/', "\\/") } else { text }
    }

    /// The signed request: for [`Endpoint::Ipn`] `key` is the REST password
    /// (`kr-hash-key=password`), for [`Endpoint::Return`] the REST HMAC-SHA-256 key
    /// (`kr-hash-key=sha256_hmac`).
    pub fn sign(&self, key: &[u8], endpoint: Endpoint) -> RawRequest {
        let answer = self.answer_text();
        let hash_key = match endpoint {
            Endpoint::Ipn => "password",
            Endpoint::Return => "sha256_hmac",
        };
        let answer_type = self.answer.get("_type").and_then(Value::as_str).unwrap_or("V4/Payment");
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("kr-hash", &kr_hash(&answer, key))
            .append_pair("kr-hash-algorithm", "sha256_hmac")
            .append_pair("kr-hash-key", hash_key)
            .append_pair("kr-answer-type", answer_type)
            .append_pair("kr-answer", &answer);
        if let Some(src) = &self.src {
            body.append_pair("kr-src", src);
        }
        RawRequest::post(self.target.clone(), FORM_MEDIA_TYPE, body.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_pointer_and_dotted() {
        let mut doc = json!({"a": {"b": [1, {"c": 2}]}});
        set_path(&mut doc, "/a/b/1/c", json!(3)).unwrap();
        set_path(&mut doc, "a.b.0", json!("x")).unwrap();
        set_path(&mut doc, "n.m", json!(true)).unwrap();
        assert_eq!(doc, json!({"a": {"b": ["x", {"c": 3}]}, "n": {"m": true}}));
        assert!(set_path(&mut doc, "a.b.9", json!(1)).is_err());
        assert!(set_path(&mut doc, "a.b.x", json!(1)).is_err());
        assert!(set_path(&mut doc, "n.m.k", json!(1)).is_err());
        assert!(set_path(&mut doc, "a..b", json!(1)).is_err());
    }

    #[test]
    fn escaped_answer_hashes_as_unescaped() {
        let b = RestBuilder::new(RestTemplate::Payment, "1");
        assert!(b.answer_text().contains(r#""V4\/Payment""#));
        let r = b.sign(b"pw", Endpoint::Ipn);
        let fields = crate::form::FormFields::parse(r.body()).unwrap();
        let unescaped = b.clone().escape_slashes(false).answer_text();
        assert_eq!(fields.get("kr-hash"), Some(kr_hash(&unescaped, b"pw").as_str()));
    }
}
