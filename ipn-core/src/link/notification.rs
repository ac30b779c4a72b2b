//! The typed CentralBill notification (PROTOCOLS 3.2), read from the authenticated JSON body
//! without floats and without re-serializing; the raw body stays available.

use std::borrow::Cow;

use rust_decimal::Decimal;
use time::OffsetDateTime;

use super::dates::parse_rfc3339;
use crate::error::Error;
use crate::fingerprint::{Fingerprint, FingerprintBuilder};
use crate::json::parse_decimal;
use crate::json_index::{JsonIndex, JsonObject, JsonValue, Kind};
use crate::money::{Amount, Currency};
use crate::types::{Scheme, StatusClass, wire_enum};

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

wire_enum! {
    /// Whether a payment settles the whole invoice (`payment.type`).
    PaymentType {
        Full = "full",
        Partial = "partial",
    }
}

/// `payment.totalAmountAlreadyPaid`: documented as a number, shown as an object with a currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PaidAmount {
    /// A bare number (no currency given; the invoice's is the likely one).
    Number(Decimal),
    /// `{"amount": .., "currency": ..}`.
    Amount(Amount),
}

impl PaidAmount {
    /// The amount in major units, exactly as received.
    pub fn value(&self) -> Decimal {
        match self {
            PaidAmount::Number(value) => *value,
            PaidAmount::Amount(amount) => amount.to_decimal().unwrap_or_default(),
        }
    }

    /// The currency, when one was given.
    pub fn currency(&self) -> Option<&Currency> {
        match self {
            PaidAmount::Number(_) => None,
            PaidAmount::Amount(amount) => Some(amount.currency()),
        }
    }
}

/// The application the payment was made through (`payment.application`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Application {
    /// `id`: the application id.
    pub id: Option<String>,
    /// `name`: the merchant's display name.
    pub name: Option<String>,
}

/// The payment (`payment`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Payment {
    /// `id`: the payment id.
    pub id: Option<String>,
    /// `type`: `full` or `partial`.
    pub kind: Option<PaymentType>,
    /// `application`.
    pub application: Option<Application>,
    /// `invoice`, as raw JSON text (its shape is not documented).
    pub invoice: Option<String>,
    /// `extras`, as raw JSON text: what the merchant attached to the link.
    pub extras: Option<String>,
    /// `totalAmountAlreadyPaid`.
    pub total_amount_already_paid: Option<PaidAmount>,
}

/// The invoice (`invoice`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Invoice {
    /// `id`: the merchant's invoice reference.
    pub id: Option<String>,
    /// `customerId`.
    pub customer_id: Option<String>,
    /// `totalAmount` {`amount`, `currency`}.
    pub total_amount: Option<Amount>,
    /// `issuedAt` (RFC 3339).
    pub issued_at: Option<OffsetDateTime>,
    /// `dueDate` (RFC 3339).
    pub due_date: Option<OffsetDateTime>,
    /// `expiresAt` (RFC 3339).
    pub expires_at: Option<OffsetDateTime>,
}

/// The payment result (`result`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkResult {
    /// `origin`: who decided (`processor`...).
    pub origin: Option<String>,
    /// `status` (required).
    pub status: LinkStatus,
    /// `statusReason`: a human-readable explanation.
    pub status_reason: Option<String>,
}

/// An authenticated CentralBill notification.
///
/// Only `id` and `result.status` are required; everything else is optional. Amounts are exact
/// decimals; of repeated JSON keys the last wins; [`body`](Self::body) is the JSON as received.
/// See the [module documentation](crate::link) for an example.
#[derive(Debug, Clone)]
pub struct LinkNotification {
    application_id: String,
    body: String,
    id: String,
    payment: Option<Box<Payment>>,
    invoice: Option<Box<Invoice>>,
    payment_fee: Option<Amount>,
    external_transaction_id: Option<String>,
    result: LinkResult,
}

/// Reads a nested object's fields, naming errors with their JSON path.
struct Reader<'i, 'a> {
    object: JsonObject<'i, 'a>,
    path: &'static str,
}

impl<'i, 'a> Reader<'i, 'a> {
    /// Several members, found in one pass over the object; `null` counts as absent.
    fn fields<const N: usize>(&self, keys: [&'static str; N]) -> [Field<'i, 'a>; N] {
        let values = self.object.get_many(keys);
        std::array::from_fn(|j| Field {
            key: keys[j],
            path: self.path,
            value: values[j].filter(|value| value.kind() != Kind::Null),
        })
    }

    /// `{"amount": .., "currency": ..}`; `None` unless both are present.
    fn money(&self) -> Result<Option<Amount>, Error> {
        let [amount, currency] = self.fields(["amount", "currency"]);
        let value = amount.decimal()?;
        let currency = currency.str()?;
        Ok(value.zip(currency).map(|(value, code)| Amount::Decimal { value, currency: Currency::from_alpha(&code) }))
    }
}

/// One member of an object, typed on demand.
struct Field<'i, 'a> {
    key: &'static str,
    path: &'static str,
    value: Option<JsonValue<'i, 'a>>,
}

impl<'i, 'a> Field<'i, 'a> {
    fn err(&self, expected: &'static str) -> Error {
        Error::malformed(Scheme::Link, format!("{}{} is not {expected}", self.path, self.key))
    }

    fn kind(&self) -> Option<Kind> {
        self.value.map(|value| value.kind())
    }

    fn str(&self) -> Result<Option<Cow<'a, str>>, Error> {
        self.value.map(|value| value.str().ok_or_else(|| self.err("a string"))).transpose()
    }

    fn string(&self) -> Result<Option<String>, Error> {
        Ok(self.str()?.map(Cow::into_owned))
    }

    /// A string or a number, as text (ids are sometimes sent either way).
    fn text(&self) -> Result<Option<String>, Error> {
        match self.value {
            None => Ok(None),
            Some(value) if value.kind() == Kind::String => self.string(),
            Some(value) if value.kind() == Kind::Number => Ok(Some(value.raw().to_owned())),
            Some(_) => Err(self.err("a string or a number")),
        }
    }

    fn raw(&self) -> Option<String> {
        self.value.map(|value| value.raw().to_owned())
    }

    /// A number as an exact decimal (never through `f64`); a numeric string is accepted.
    fn decimal(&self) -> Result<Option<Decimal>, Error> {
        self.value
            .map(|value| {
                let text = if value.kind() == Kind::String {
                    value.str().ok_or_else(|| self.err("a number"))?
                } else {
                    Cow::Borrowed(value.raw())
                };
                parse_decimal(&text).ok_or_else(|| self.err("a decimal number"))
            })
            .transpose()
    }

    fn object(&self, path: &'static str) -> Result<Option<Reader<'i, 'a>>, Error> {
        self.value
            .map(|value| value.object().map(|object| Reader { object, path }).ok_or_else(|| self.err("an object")))
            .transpose()
    }

    fn date(&self) -> Result<Option<OffsetDateTime>, Error> {
        self.str()?
            .map(|text| {
                parse_rfc3339(&text).ok_or_else(|| {
                    Error::malformed(Scheme::Link, format!("{}{} is not an RFC 3339 date", self.path, self.key))
                })
            })
            .transpose()
    }

    fn money(&self, path: &'static str) -> Result<Option<Amount>, Error> {
        match self.object(path)? {
            Some(reader) => reader.money(),
            None => Ok(None),
        }
    }
}

impl LinkNotification {
    /// Types an authenticated body.
    pub(crate) fn from_json(application_id: String, body: String) -> Result<Self, Error> {
        let not_an_object = || Error::malformed(Scheme::Link, "the body is not a JSON object");
        let index = JsonIndex::parse(&body).map_err(|_| not_an_object())?;
        let object = index.root().object().ok_or_else(not_an_object)?;
        let root = Reader { object, path: "" };
        let [id, payment, invoice, payment_fee, external_transaction_id, result] =
            root.fields(["id", "payment", "invoice", "paymentFee", "externalTransactionId", "result"]);
        let id = id.text()?.ok_or(Error::MissingField { scheme: Scheme::Link, field: "id" })?;
        let result =
            result.object("result.")?.ok_or(Error::MissingField { scheme: Scheme::Link, field: "result.status" })?;
        let [origin, status, status_reason] = result.fields(["origin", "status", "statusReason"]);
        let result = LinkResult {
            origin: origin.string()?,
            status: LinkStatus::parse(
                &status.str()?.ok_or(Error::MissingField { scheme: Scheme::Link, field: "result.status" })?,
            ),
            status_reason: status_reason.string()?,
        };
        let payment = match payment.object("payment.")? {
            None => None,
            Some(p) => {
                let [id, kind, application, invoice, extras, paid] =
                    p.fields(["id", "type", "application", "invoice", "extras", "totalAmountAlreadyPaid"]);
                Some(Box::new(Payment {
                    id: id.text()?,
                    kind: kind.str()?.map(|t| PaymentType::parse(&t)),
                    application: match application.object("payment.application.")? {
                        None => None,
                        Some(a) => {
                            let [id, name] = a.fields(["id", "name"]);
                            Some(Application { id: id.text()?, name: name.string()? })
                        }
                    },
                    invoice: invoice.raw(),
                    extras: extras.raw(),
                    total_amount_already_paid: match paid.kind() {
                        None => None,
                        Some(Kind::Object) => paid.money("payment.totalAmountAlreadyPaid.")?.map(PaidAmount::Amount),
                        Some(_) => paid.decimal()?.map(PaidAmount::Number),
                    },
                }))
            }
        };
        let invoice = match invoice.object("invoice.")? {
            None => None,
            Some(i) => {
                let [id, customer_id, total_amount, issued_at, due_date, expires_at] =
                    i.fields(["id", "customerId", "totalAmount", "issuedAt", "dueDate", "expiresAt"]);
                Some(Box::new(Invoice {
                    id: id.text()?,
                    customer_id: customer_id.text()?,
                    total_amount: total_amount.money("invoice.totalAmount.")?,
                    issued_at: issued_at.date()?,
                    due_date: due_date.date()?,
                    expires_at: expires_at.date()?,
                }))
            }
        };
        let payment_fee = payment_fee.money("paymentFee.")?;
        let external_transaction_id = external_transaction_id.text()?;
        Ok(Self { application_id, body, id, payment, invoice, payment_fee, external_transaction_id, result })
    }

    /// The application id: the signature's `keyId`, which selected the secret.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// The signature's `keyId` (the same as [`application_id`](Self::application_id)).
    pub fn key_id(&self) -> &str {
        &self.application_id
    }

    /// The JSON body exactly as received (and authenticated).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The notification id (`id`; the last one when the key is repeated).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The payment (`payment`).
    pub fn payment(&self) -> Option<&Payment> {
        self.payment.as_deref()
    }

    /// The invoice (`invoice`).
    pub fn invoice(&self) -> Option<&Invoice> {
        self.invoice.as_deref()
    }

    /// The fee (`paymentFee`).
    pub fn payment_fee(&self) -> Option<&Amount> {
        self.payment_fee.as_ref()
    }

    /// The processor's transaction id (`externalTransactionId`).
    pub fn external_transaction_id(&self) -> Option<&str> {
        self.external_transaction_id.as_deref()
    }

    /// The result (`result`).
    pub fn result(&self) -> &LinkResult {
        &self.result
    }

    /// The result status (`result.status`).
    pub fn status(&self) -> &LinkStatus {
        &self.result.status
    }

    /// The invoice id (`invoice.id`): the merchant's order reference.
    pub fn order_id(&self) -> Option<&str> {
        self.invoice.as_ref()?.id.as_deref()
    }

    /// The invoice total (`invoice.totalAmount`), an exact decimal.
    pub fn amount(&self) -> Option<Amount> {
        self.invoice.as_ref()?.total_amount.clone()
    }

    /// The idempotency fingerprint, over the application id, `id`, `result.status`, the invoice
    /// id and the invoice total (amount, normalised so `15000` and `15000.00` agree, and
    /// currency). The delivery (`Date`, digest, signature) is not part of it, so a redelivery of
    /// the same notification has the same fingerprint, while a new status does not.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut builder = FingerprintBuilder::new(Scheme::Link);
        let total = self.invoice.as_ref().and_then(|i| i.total_amount.as_ref());
        let value = total.and_then(Amount::to_decimal).map(|v| v.normalize().to_string());
        builder
            .field("application_id", Some(&self.application_id))
            .field("id", Some(&self.id))
            .field("result.status", Some(self.status().as_str()))
            .field("invoice.id", self.order_id())
            .field("invoice.totalAmount.amount", value.as_deref())
            .field("invoice.totalAmount.currency", total.map(|t| t.currency().code()));
        builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn parse(body: &str) -> Result<LinkNotification, Error> {
        LinkNotification::from_json("app".into(), body.into())
    }

    const FULL: &str = r#"{"id":"first","payment":{"id":"p1","type":"partial","application":{"id":"app","name":"Démo"},
        "invoice":{"x":1},"extras":[1,"a"],"totalAmountAlreadyPaid":{"amount":100.5,"currency":"XOF"}},
        "invoice":{"id":"INV-1","customerId":77,"totalAmount":{"amount":150.75,"currency":"EUR"},
        "issuedAt":"2026-11-20T10:00:00Z","dueDate":"2026-12-20T10:00:00+01:00","expiresAt":null},
        "paymentFee":{"amount":1.25,"currency":"EUR"},"externalTransactionId":"MP1",
        "result":{"origin":"processor","status":"COMPLETED","statusReason":"ok"},"id":"last"}"#;

    #[test]
    fn reads_every_documented_field() {
        let n = parse(FULL).unwrap();
        assert_eq!(n.id(), "last");
        assert_eq!(n.body(), FULL);
        let payment = n.payment().unwrap();
        assert_eq!(payment.id.as_deref(), Some("p1"));
        assert_eq!(payment.kind, Some(PaymentType::Partial));
        assert_eq!(payment.application.as_ref().unwrap().name.as_deref(), Some("Démo"));
        assert_eq!(payment.invoice.as_deref(), Some(r#"{"x":1}"#));
        assert_eq!(payment.extras.as_deref(), Some(r#"[1,"a"]"#));
        let paid = payment.total_amount_already_paid.as_ref().unwrap();
        assert_eq!(paid.value().to_string(), "100.5");
        assert_eq!(paid.currency().map(Currency::code), Some("XOF"));
        let invoice = n.invoice().unwrap();
        assert_eq!(invoice.customer_id.as_deref(), Some("77"));
        assert_eq!(invoice.issued_at.unwrap().unix_timestamp(), 1_795_168_800);
        assert_eq!(invoice.due_date.unwrap().offset().whole_hours(), 1);
        assert_eq!(invoice.expires_at, None);
        assert_eq!(n.order_id(), Some("INV-1"));
        assert_eq!(n.amount().unwrap().to_decimal(), Some(Decimal::from_str("150.75").unwrap()));
        assert_eq!(n.payment_fee().unwrap().to_string(), "1.25 EUR");
        assert_eq!(n.external_transaction_id(), Some("MP1"));
        assert_eq!(n.result().origin.as_deref(), Some("processor"));
        assert_eq!(n.result().status_reason.as_deref(), Some("ok"));
        assert_eq!(n.status().class(), StatusClass::Accepted);
    }

    #[test]
    fn only_id_and_status_are_required() {
        let n = parse(r#"{"id":1,"result":{"status":"SOMETHING_NEW"}}"#).unwrap();
        assert_eq!(n.id(), "1");
        assert_eq!(n.status(), &LinkStatus::Unknown("SOMETHING_NEW".into()));
        assert_eq!(n.status().class(), StatusClass::Unknown);
        assert!(n.payment().is_none() && n.invoice().is_none() && n.amount().is_none());
        assert!(matches!(parse(r#"{"result":{"status":"COMPLETED"}}"#), Err(Error::MissingField { field: "id", .. })));
        assert!(matches!(parse(r#"{"id":"1","result":{}}"#), Err(Error::MissingField { field: "result.status", .. })));
        assert!(matches!(parse(r#"{"id":"1"}"#), Err(Error::MissingField { field: "result.status", .. })));
    }

    #[test]
    fn already_paid_as_a_bare_number() {
        let n = parse(r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"totalAmountAlreadyPaid":15000.10}}"#)
            .unwrap();
        let paid = n.payment().unwrap().total_amount_already_paid.as_ref().unwrap();
        assert_eq!(paid, &PaidAmount::Number(Decimal::from_str("15000.10").unwrap()));
        assert_eq!(paid.currency(), None);
    }

    #[test]
    fn wrong_types_are_malformed() {
        for body in [
            r#"[1]"#,
            r#"{"id":true,"result":{"status":"COMPLETED"}}"#,
            r#"{"id":"1","result":"COMPLETED"}"#,
            r#"{"id":"1","result":{"status":1}}"#,
            r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"totalAmount":{"amount":"x","currency":"EUR"}}}"#,
            r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"issuedAt":"yesterday"}}"#,
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"totalAmountAlreadyPaid":true}}"#,
            r#"{"id":"1","result":{"status":"COMPLETED"},"paymentFee":12}"#,
        ] {
            assert!(matches!(parse(body), Err(Error::Malformed { .. })), "{body}");
        }
    }

    #[test]
    fn escapes_duplicates_and_nesting_read_as_serde_json_does() {
        let body = r#"{"i\u0064":"a\"b\u00e9","result":{"status":"PENDING","status":"COMPLETED"},
            "invoice":{"id":"I","totalAmount":{"amount":"1.50","currency":"X\u004fF"},"totalAmount":{"amount":2}},
            "payment":{"extras":{"id":"nested","result":{"status":"FAILED"}},"id":"\ud83d\ude00"}}"#;
        let n = parse(body).unwrap();
        assert_eq!(n.id(), "a\"bé");
        assert_eq!(n.status(), &LinkStatus::Completed);
        // The last totalAmount has no currency: no amount, as before.
        assert_eq!(n.amount(), None);
        let payment = n.payment().unwrap();
        assert_eq!(payment.id.as_deref(), Some("😀"));
        assert_eq!(payment.extras.as_deref(), Some(r#"{"id":"nested","result":{"status":"FAILED"}}"#));
        let n = parse(r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"totalAmount":{"amount":"1.50","currency":"X\u004fF"}}}"#)
            .unwrap();
        assert_eq!(n.amount().unwrap().to_string(), "1.50 XOF");
        // A lone surrogate is tolerated where the value is kept raw, refused where it is read.
        assert!(parse(r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"extras":"\ud800"}}"#).is_ok());
        for body in [
            r#"{"id":"\ud800","result":{"status":"COMPLETED"}}"#,
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"\ud800":1}}"#,
            r#"{"\ud800":1,"id":"1","result":{"status":"COMPLETED"}}"#,
            r#"{"id":"1","result":{"status":"COMPLETED"}} x"#,
            r#"{"id":"1","result":{"status":"COMPLETED"},}"#,
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":[1,]}"#,
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":01}"#,
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":"\q"}"#,
            "{\"id\":\"1\",\"result\":{\"status\":\"COMPLETED\"},\"x\":\"\u{1}\"}",
            r#"{"id":"1","result":{"status":"COMPLETED"}"#,
            "",
            "null",
        ] {
            assert!(matches!(parse(body), Err(Error::Malformed { .. })), "{body}");
        }
    }

    #[test]
    fn fingerprint_covers_business_fields_only() {
        let base = r#"{"id":"1","invoice":{"id":"I","totalAmount":{"amount":15000,"currency":"XOF"}},"result":{"status":"COMPLETED"}}"#;
        let same = r#"{"result":{"status":"COMPLETED","statusReason":"x"},"invoice":{"totalAmount":{"currency":"XOF","amount":15000.00},"id":"I"},"id":"1"}"#;
        let fp = parse(base).unwrap().fingerprint();
        assert_eq!(parse(same).unwrap().fingerprint(), fp);
        for other in [
            base.replace("COMPLETED", "REVERSED"),
            base.replace(r#""id":"1""#, r#""id":"2""#),
            base.replace(r#""id":"I""#, r#""id":"J""#),
            base.replace("15000", "15001"),
            base.replace("XOF", "EUR"),
        ] {
            assert_ne!(parse(&other).unwrap().fingerprint(), fp, "{other}");
        }
        let other_app = LinkNotification::from_json("app2".into(), base.into()).unwrap();
        assert_ne!(other_app.fingerprint(), fp);
    }
}
