//! The typed CentralBill notification (PROTOCOLS 3.2), read from the authenticated JSON body
//! without floats and without re-serializing; the raw body stays available.

use bytestring::ByteString;
use rust_decimal::Decimal;
use serde::Deserialize;
use time::OffsetDateTime;

use super::dates::parse_rfc3339;
use crate::error::Error;
use crate::fingerprint::{Fingerprint, FingerprintBuilder};
use crate::json::{JsonFieldError, Raw, json_object};
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
pub struct LinkNotification(Box<LinkData>);

/// What a [`LinkNotification`] holds, behind one box (see
/// [`FormNotification`](crate::form::FormNotification)).
#[derive(Debug, Clone)]
struct LinkData {
    application_id: String,
    body: ByteString,
    id: String,
    payment: Option<Payment>,
    invoice: Option<Invoice>,
    payment_fee: Option<Amount>,
    external_transaction_id: Option<String>,
    result: LinkResult,
}

json_object! {
    /// The members of the body that are typed, kept raw: each object is read when it is typed,
    /// so that of a repeated key only the last value counts, even when an earlier one is broken.
    struct Body<'a> {
        "id" => id: Raw<'a>,
        "payment" => payment: Raw<'a>,
        "invoice" => invoice: Raw<'a>,
        "paymentFee" => payment_fee: Raw<'a>,
        "externalTransactionId" => external_transaction_id: Raw<'a>,
        "result" => result: Raw<'a>,
    }
}

json_object! {
    /// `result`.
    struct ResultBody<'a> {
        "origin" => origin: Raw<'a>,
        "status" => status: Raw<'a>,
        "statusReason" => status_reason: Raw<'a>,
    }
}

json_object! {
    /// `payment`.
    struct PaymentBody<'a> {
        "id" => id: Raw<'a>,
        "type" => kind: Raw<'a>,
        "application" => application: Raw<'a>,
        "invoice" => invoice: Raw<'a>,
        "extras" => extras: Raw<'a>,
        "totalAmountAlreadyPaid" => total_amount_already_paid: Raw<'a>,
    }
}

json_object! {
    /// `payment.application`.
    struct ApplicationBody<'a> {
        "id" => id: Raw<'a>,
        "name" => name: Raw<'a>,
    }
}

json_object! {
    /// `invoice`.
    struct InvoiceBody<'a> {
        "id" => id: Raw<'a>,
        "customerId" => customer_id: Raw<'a>,
        "totalAmount" => total_amount: Raw<'a>,
        "issuedAt" => issued_at: Raw<'a>,
        "dueDate" => due_date: Raw<'a>,
        "expiresAt" => expires_at: Raw<'a>,
    }
}

json_object! {
    /// `{"amount": .., "currency": ..}`.
    struct MoneyBody<'a> {
        "amount" => amount: Raw<'a>,
        "currency" => currency: Raw<'a>,
    }
}

/// Names a typing error with the path of the member's object (`payment.application.`).
fn at(path: &str) -> impl Fn(JsonFieldError) -> Error + '_ {
    move |e| Error::malformed(Scheme::Link, format!("{path}{e}"))
}

/// The object member `key` of the object at `path`.
fn object<'a, T: Deserialize<'a>>(raw: Raw<'a>, path: &str, key: &str) -> Result<Option<T>, Error> {
    raw.object(key).map_err(at(path))
}

/// The amount member `key` of the object at `path`: `{"amount": .., "currency": ..}`; `None`
/// unless both are present.
fn money(raw: Raw<'_>, path: &str, key: &str) -> Result<Option<Amount>, Error> {
    let Some(money) = object::<MoneyBody<'_>>(raw, path, key)? else { return Ok(None) };
    let e = |e| Error::malformed(Scheme::Link, format!("{path}{key}.{e}"));
    let value = money.amount.decimal("amount").map_err(e)?;
    let currency = money.currency.str("currency").map_err(e)?;
    Ok(value.zip(currency).map(|(value, code)| Amount::Decimal { value, currency: Currency::from_alpha(&code) }))
}

/// The RFC 3339 date member `key` of the object at `path`.
fn date(raw: Raw<'_>, path: &str, key: &str) -> Result<Option<OffsetDateTime>, Error> {
    raw.str(key)
        .map_err(at(path))?
        .map(|text| {
            parse_rfc3339(&text)
                .ok_or_else(|| Error::malformed(Scheme::Link, format!("{path}{key} is not an RFC 3339 date")))
        })
        .transpose()
}

impl Payment {
    fn from_json(p: &PaymentBody<'_>) -> Result<Self, Error> {
        const PATH: &str = "payment.";
        let e = at(PATH);
        let paid = p.total_amount_already_paid;
        Ok(Payment {
            id: p.id.text("id").map_err(&e)?,
            kind: p.kind.str("type").map_err(&e)?.map(|t| PaymentType::parse(&t)),
            application: match object::<ApplicationBody<'_>>(p.application, PATH, "application")? {
                None => None,
                Some(a) => {
                    let e = at("payment.application.");
                    Some(Application { id: a.id.text("id").map_err(&e)?, name: a.name.string("name").map_err(&e)? })
                }
            },
            invoice: p.invoice.raw().map(str::to_owned),
            extras: p.extras.raw().map(str::to_owned),
            total_amount_already_paid: if paid.is_object() {
                money(paid, PATH, "totalAmountAlreadyPaid")?.map(PaidAmount::Amount)
            } else {
                paid.decimal("totalAmountAlreadyPaid").map_err(&e)?.map(PaidAmount::Number)
            },
        })
    }
}

impl Invoice {
    fn from_json(i: &InvoiceBody<'_>) -> Result<Self, Error> {
        const PATH: &str = "invoice.";
        let e = at(PATH);
        Ok(Invoice {
            id: i.id.text("id").map_err(&e)?,
            customer_id: i.customer_id.text("customerId").map_err(&e)?,
            total_amount: money(i.total_amount, PATH, "totalAmount")?,
            issued_at: date(i.issued_at, PATH, "issuedAt")?,
            due_date: date(i.due_date, PATH, "dueDate")?,
            expires_at: date(i.expires_at, PATH, "expiresAt")?,
        })
    }
}

impl LinkNotification {
    /// Types an authenticated body.
    pub(crate) fn from_json(application_id: String, body: ByteString) -> Result<Self, Error> {
        let b: Body<'_> =
            serde_json::from_str(&body).map_err(|_| Error::malformed(Scheme::Link, "the body is not a JSON object"))?;
        let e = at("");
        let id = b.id.text("id").map_err(&e)?.ok_or(Error::MissingField { scheme: Scheme::Link, field: "id" })?;
        let no_status = || Error::MissingField { scheme: Scheme::Link, field: "result.status" };
        let r = object::<ResultBody<'_>>(b.result, "", "result")?.ok_or_else(no_status)?;
        let in_result = at("result.");
        let result = LinkResult {
            origin: r.origin.string("origin").map_err(&in_result)?,
            status: LinkStatus::parse(&r.status.str("status").map_err(&in_result)?.ok_or_else(no_status)?),
            status_reason: r.status_reason.string("statusReason").map_err(&in_result)?,
        };
        let payment =
            object::<PaymentBody<'_>>(b.payment, "", "payment")?.map(|p| Payment::from_json(&p)).transpose()?;
        let invoice =
            object::<InvoiceBody<'_>>(b.invoice, "", "invoice")?.map(|i| Invoice::from_json(&i)).transpose()?;
        let payment_fee = money(b.payment_fee, "", "paymentFee")?;
        let external_transaction_id = b.external_transaction_id.text("externalTransactionId").map_err(&e)?;
        Ok(Self(Box::new(LinkData {
            application_id,
            body,
            id,
            payment,
            invoice,
            payment_fee,
            external_transaction_id,
            result,
        })))
    }

    /// The application id: the signature's `keyId`, which selected the secret.
    pub fn application_id(&self) -> &str {
        &self.0.application_id
    }

    /// The signature's `keyId` (the same as [`application_id`](Self::application_id)).
    pub fn key_id(&self) -> &str {
        &self.0.application_id
    }

    /// The JSON body exactly as received (and authenticated).
    pub fn body(&self) -> &str {
        &self.0.body
    }

    /// The notification id (`id`; the last one when the key is repeated).
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The payment (`payment`).
    pub fn payment(&self) -> Option<&Payment> {
        self.0.payment.as_ref()
    }

    /// The invoice (`invoice`).
    pub fn invoice(&self) -> Option<&Invoice> {
        self.0.invoice.as_ref()
    }

    /// The fee (`paymentFee`).
    pub fn payment_fee(&self) -> Option<&Amount> {
        self.0.payment_fee.as_ref()
    }

    /// The processor's transaction id (`externalTransactionId`).
    pub fn external_transaction_id(&self) -> Option<&str> {
        self.0.external_transaction_id.as_deref()
    }

    /// The result (`result`).
    pub fn result(&self) -> &LinkResult {
        &self.0.result
    }

    /// The result status (`result.status`).
    pub fn status(&self) -> &LinkStatus {
        &self.0.result.status
    }

    /// The invoice id (`invoice.id`): the merchant's order reference.
    pub fn order_id(&self) -> Option<&str> {
        self.0.invoice.as_ref()?.id.as_deref()
    }

    /// The invoice total (`invoice.totalAmount`), an exact decimal.
    pub fn amount(&self) -> Option<Amount> {
        self.0.invoice.as_ref()?.total_amount.clone()
    }

    /// The idempotency fingerprint, over the application id, `id`, `result.status`, the invoice
    /// id and the invoice total (amount, normalised so `15000` and `15000.00` agree, and
    /// currency). The delivery (`Date`, digest, signature) is not part of it, so a redelivery of
    /// the same notification has the same fingerprint, while a new status does not.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut builder = FingerprintBuilder::new(Scheme::Link);
        let total = self.0.invoice.as_ref().and_then(|i| i.total_amount.as_ref());
        let value = total.and_then(Amount::to_decimal).map(|v| v.normalize().to_string());
        builder
            .field("application_id", Some(&self.0.application_id))
            .field("id", Some(&self.0.id))
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

    /// Bodies that reach every member, type and error of the typing, with what becomes of each:
    /// `ok`, or the error.
    const CORPUS: &[(&str, &str)] = &[
        (FULL, "ok"),
        (r#"{"id":1,"result":{"status":"SOMETHING_NEW"}}"#, "ok"),
        (
            r#"{"i\u0064":"a\"b\u00e9","result":{"status":"PENDING","status":"COMPLETED"},
            "invoice":{"id":"I","totalAmount":{"amount":"1.50","currency":"X\u004fF"},"totalAmount":{"amount":2}},
            "payment":{"extras":{"id":"nested","result":{"status":"FAILED"}},"id":"\ud83d\ude00"}}"#,
            "ok",
        ),
        (r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"totalAmountAlreadyPaid":15000.10}}"#, "ok"),
        (r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"totalAmountAlreadyPaid":"15000.10"}}"#, "ok"),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"totalAmountAlreadyPaid":{"amount":"x","currency":"EUR"}}}"#,
            "malformed link notification: payment.totalAmountAlreadyPaid.amount is not a decimal number",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"totalAmountAlreadyPaid":[1]}}"#,
            "malformed link notification: payment.totalAmountAlreadyPaid is not a decimal number",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"application":{"id":1,"name":2}}}"#,
            "malformed link notification: payment.application.name is not a string",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"application":[]}}"#,
            "malformed link notification: payment.application is not an object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"application":{"\ud800":1}}}"#,
            "malformed link notification: payment.application is not an object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"application":{"\ud800":1},"application":{"id":"a"}}}"#,
            "ok",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"application":{"id":"a"},"application":{"\ud800":1}}}"#,
            "malformed link notification: payment.application is not an object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"application":{"id":"a"}},"payment":{"id":"p"}}"#,
            "ok",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"application":{"id":"a"}},"payment":{"application":"x"}}"#,
            "malformed link notification: payment.application is not an object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"invoice":{"\ud800":[1,{"a":"\ud800"}]},"extras":"\ud800"}}"#,
            "ok",
        ),
        (r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"type":"full","type":"other","id":null}}"#, "ok"),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":{"type":1}}"#,
            "malformed link notification: payment.type is not a string",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":"p"}"#,
            "malformed link notification: payment is not an object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"payment":1e400}"#,
            "malformed link notification: payment is not an object",
        ),
        (r#"{"id":"1","result":{"status":"COMPLETED"},"payment":null,"invoice":null,"paymentFee":null}"#, "ok"),
        (
            r#"{"id":"1","result":{"status":"COMPLETED","origin":1}}"#,
            "malformed link notification: result.origin is not a string",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED","statusReason":"\ud800"}}"#,
            "malformed link notification: result.statusReason is not a string",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"result":{"origin":"o"}}"#,
            "link notification without the required field result.status",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED","\ud800":1}}"#,
            "malformed link notification: result is not an object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"\ud800":1}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"issuedAt":"2026-12-20T10:00:00.5+01:00","dueDate":"x"}}"#,
            "malformed link notification: invoice.dueDate is not an RFC 3339 date",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"issuedAt":1}}"#,
            "malformed link notification: invoice.issuedAt is not a string",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"totalAmount":{"amount":1e3,"currency":"EUR"}}}"#,
            "ok",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"totalAmount":{"amount":-0.0,"currency":"ZZZ"}}}"#,
            "ok",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"totalAmount":{"amount":1,"currency":1}}}"#,
            "malformed link notification: invoice.totalAmount.currency is not a string",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"totalAmount":{"amount":1e99,"currency":"EUR"}}}"#,
            "malformed link notification: invoice.totalAmount.amount is not a decimal number",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"invoice":{"customerId":true}}"#,
            "malformed link notification: invoice.customerId is not a string or a number",
        ),
        (r#"{"id":"1","result":{"status":"COMPLETED"},"paymentFee":{"amount":1.25}}"#, "ok"),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"paymentFee":12}"#,
            "malformed link notification: paymentFee is not an object",
        ),
        (r#"{"id":"1","result":{"status":"COMPLETED"},"externalTransactionId":-1.5e-3}"#, "ok"),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"externalTransactionId":{}}"#,
            "malformed link notification: externalTransactionId is not a string or a number",
        ),
        (
            r#"{"id":true,"result":{"status":"COMPLETED"}}"#,
            "malformed link notification: id is not a string or a number",
        ),
        (r#"{"id":"1","result":"COMPLETED"}"#, "malformed link notification: result is not an object"),
        (r#"{"id":"1","result":{"status":1}}"#, "malformed link notification: result.status is not a string"),
        (r#"{"id":"1","result":{}}"#, "link notification without the required field result.status"),
        (r#"{"id":"1"}"#, "link notification without the required field result.status"),
        (r#"{"result":{"status":"COMPLETED"}}"#, "link notification without the required field id"),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":[[[{"y":[{},[],"\u0000",-0,1.5E+2,true,false,null]}]]]}"#,
            "ok",
        ),
        (r#" {"id" : "1" ,"result" : { "status" : "COMPLETED" } , "invoice" : { "id" : "I" } } "#, "ok"),
        ("\t{\n\"id\"\r:\"1\",\"result\":{\"status\":\"COMPLETED\"}}\n", "ok"),
        ("{}", "link notification without the required field id"),
        ("[]", "malformed link notification: the body is not a JSON object"),
        (r#""{}""#, "malformed link notification: the body is not a JSON object"),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"}} x"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":[1,]}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":01}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":"\q"}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":{"a" 1}}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":{"a":1 "b":2}}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":{1:1}}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":[}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"},"x":tru}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        (r#"{"id":"1","result":{"status" "COMPLETED"}}"#, "malformed link notification: the body is not a JSON object"),
        (r#"{"id":"1","result":{"status":"COMPLETED"}"#, "malformed link notification: the body is not a JSON object"),
        (
            r#"{"id":"1","result":{"status":"COMPLETED"}}}"#,
            "malformed link notification: the body is not a JSON object",
        ),
        ("", "malformed link notification: the body is not a JSON object"),
        ("null", "malformed link notification: the body is not a JSON object"),
        ("{", "malformed link notification: the body is not a JSON object"),
    ];

    /// What becomes of a body: `ok`, or the error.
    fn outcome(body: &str) -> String {
        parse(body).map_or_else(|e| e.to_string(), |_| "ok".to_owned())
    }

    #[test]
    fn types_every_corpus_body_as_specified() {
        for (body, expected) in CORPUS {
            assert_eq!(outcome(body), *expected, "{body}");
        }
    }

    /// What must hold of any body: it is typed or refused as malformed or incomplete, never
    /// with a panic; a body that is not JSON is refused as such; an accepted one keeps the body
    /// as received and its `id` and `result.status` as `serde_json` reads them (the last of a
    /// repeated key).
    fn check_any_body(body: &str) -> Result<(), String> {
        let typed = parse(body);
        match &typed {
            Ok(_) | Err(Error::Malformed { .. } | Error::MissingField { .. }) => {}
            Err(e) => return Err(format!("unexpected error {e:?}")),
        }
        if serde_json::from_str::<serde::de::IgnoredAny>(body).is_err() {
            let refused = typed.as_ref().err().map(ToString::to_string);
            if refused.as_deref() != Some("malformed link notification: the body is not a JSON object") {
                return Err(format!("not JSON, yet {refused:?}"));
            }
        }
        if let (Ok(n), Ok(value)) = (&typed, serde_json::from_str::<serde_json::Value>(body)) {
            let id = match &value["id"] {
                serde_json::Value::String(id) => id.clone(),
                other => other.to_string(),
            };
            let status = value["result"]["status"].as_str().map(LinkStatus::parse);
            if (n.body(), n.id(), Some(n.status())) != (body, id.as_str(), status.as_ref()) {
                return Err(format!("typed as {n:?}"));
            }
        }
        Ok(())
    }

    #[test]
    fn types_or_refuses_every_truncation_and_one_byte_change() {
        let replacements = ["", "\"", "{", "}", "[", "]", ",", ":", "\\", "1", " ", "n"];
        for (body, _) in CORPUS {
            for (at, _) in body.char_indices() {
                check_any_body(&body[..at]).unwrap();
                let rest = &body[at..];
                let after = rest.chars().next().map_or(rest, |c| &rest[c.len_utf8()..]);
                for replacement in replacements {
                    check_any_body(&format!("{}{replacement}{after}", &body[..at])).unwrap();
                }
            }
        }
    }

    #[test]
    fn deep_values_are_skipped_without_recursion() {
        // Far beyond serde_json's recursion limit, objects and arrays mixed.
        for depth in [63, 64, 65, 127, 128, 129, 5_000, 50_000] {
            let open: String = (0..depth).map(|i| if i % 3 == 0 { "{\"k\":" } else { "[" }).collect();
            let close: String = (0..depth).rev().map(|i| if i % 3 == 0 { "}" } else { "]" }).collect();
            let body = |close: &str| {
                format!(
                    r#"{{"id":"1","payment":{{"extras":{open}1{close},"id":"p"}},"result":{{"status":"COMPLETED"}}}}"#
                )
            };
            let n = parse(&body(&close)).unwrap();
            assert_eq!(n.payment().unwrap().id.as_deref(), Some("p"));
            // One closer short, one too many, the innermost of the wrong kind.
            let wrong = if close.starts_with(']') { "}" } else { "]" };
            for broken in [close[1..].to_owned(), format!("]{close}"), format!("{wrong}{}", &close[1..])] {
                assert_eq!(outcome(&body(&broken)), "malformed link notification: the body is not a JSON object");
            }
        }
    }

    /// A JSON-like text from pieces: keys the typing reads (plain and escaped), other keys,
    /// values of every type (valid or not), duplicates and nesting, so that most bodies parse
    /// and the rest fail in varied places.
    fn json_pieces() -> impl proptest::strategy::Strategy<Value = String> {
        let pieces = proptest::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\"id\":",
            "\"i\\u0064\":",
            "\"\\ud800\":",
            "\"result\":",
            "\"status\":",
            "\"origin\":",
            "\"statusReason\":",
            "\"payment\":",
            "\"type\":",
            "\"application\":",
            "\"name\":",
            "\"extras\":",
            "\"invoice\":",
            "\"totalAmountAlreadyPaid\":",
            "\"customerId\":",
            "\"totalAmount\":",
            "\"amount\":",
            "\"currency\":",
            "\"issuedAt\":",
            "\"dueDate\":",
            "\"expiresAt\":",
            "\"paymentFee\":",
            "\"externalTransactionId\":",
            "\"x\":",
            "\"COMPLETED\"",
            "\"full\"",
            "\"XOF\"",
            "\"X\\u004fF\"",
            "\"EUR\"",
            "\"2026-11-20T10:00:00Z\"",
            "\"1.50\"",
            "\"a\\\"b\"",
            "\"\\ud800\"",
            "\"\\ud83d\\ude00\"",
            "\"\\q\"",
            "\"é\"",
            "15000",
            "150.75",
            "-0",
            "1e400",
            "01",
            "1.",
            "true",
            "false",
            "null",
            "nul",
        ]);
        proptest::collection::vec(pieces, 0..40).prop_map(|pieces| pieces.concat())
    }

    /// A well-formed body: the required members, then members built from the pieces.
    fn near_valid_body() -> impl proptest::strategy::Strategy<Value = String> {
        json_pieces().prop_map(|middle| format!(r#"{{"id":"1","result":{{"status":"COMPLETED"}},{middle}}}"#))
    }

    /// A well-formed JSON value: objects keyed by the names the typing reads (plain, escaped or
    /// not text) and others, with scalars of every type, nested a few levels.
    fn json_value() -> impl proptest::strategy::Strategy<Value = String> {
        let scalar = proptest::sample::select(vec![
            "\"COMPLETED\"",
            "\"partial\"",
            "\"XOF\"",
            "\"X\\u004fF\"",
            "\"2026-11-20T10:00:00Z\"",
            "\"2026-11-20T10:00:00+01:00\"",
            "\"1.50\"",
            "\"a\\\"b\"",
            "\"\\ud800\"",
            "\"é\"",
            "15000",
            "150.75",
            "-0",
            "1e3",
            "1e400",
            "true",
            "false",
            "null",
        ])
        .prop_map(str::to_owned);
        let key = proptest::sample::select(vec![
            "id",
            "i\\u0064",
            "\\ud800",
            "result",
            "status",
            "origin",
            "statusReason",
            "payment",
            "type",
            "application",
            "name",
            "extras",
            "invoice",
            "totalAmountAlreadyPaid",
            "customerId",
            "totalAmount",
            "amount",
            "currency",
            "issuedAt",
            "dueDate",
            "expiresAt",
            "paymentFee",
            "externalTransactionId",
            "x",
        ]);
        scalar.prop_recursive(4, 48, 6, move |inner| {
            proptest::prop_oneof![
                proptest::collection::vec((key.clone(), inner.clone()), 0..6).prop_map(|members| {
                    let members: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
                proptest::collection::vec(inner, 0..3).prop_map(|items| format!("[{}]", items.join(","))),
            ]
        })
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// Any text from the pieces, alone or inside a body that would otherwise be valid.
        #[test]
        fn types_or_refuses_any_body(body in proptest::prop_oneof![json_pieces(), near_valid_body()]) {
            proptest::prop_assert_eq!(check_any_body(&body), Ok(()), "{}", body);
        }

        /// Well-formed bodies, most of them typed (or refused for a type) somewhere deep.
        #[test]
        fn types_or_refuses_any_well_formed_body(
            members in proptest::collection::vec(json_value(), 0..4),
            value in json_value(),
        ) {
            let body = format!(r#"{{"id":"1","result":{{"status":"COMPLETED"}},"x":[{}],"payment":{value},"invoice":{value}}}"#, members.join(","));
            proptest::prop_assert_eq!(check_any_body(&body), Ok(()), "{}", body);
            proptest::prop_assert_eq!(check_any_body(&value), Ok(()), "{}", value);
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
