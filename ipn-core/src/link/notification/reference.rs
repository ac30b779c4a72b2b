//! The typing as it was over `JsonIndex` (every value indexed, members searched per object):
//! the reference the one-pass typing over `json_pick` is compared with. No production path uses it.

use std::borrow::Cow;

use rust_decimal::Decimal;
use time::OffsetDateTime;

use super::super::dates::parse_rfc3339;
use super::{
    Application, Invoice, LinkData, LinkNotification, LinkResult, LinkStatus, PaidAmount, Payment, PaymentType,
};
use crate::error::Error;
use crate::json::parse_decimal;
use crate::json_index::{JsonIndex, JsonObject, JsonValue, Kind};
use crate::money::{Amount, Currency};
use crate::types::Scheme;

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

/// Types an authenticated body, as [`LinkNotification::from_json`] did before `json_pick`.
pub(super) fn from_json(application_id: String, body: String) -> Result<LinkNotification, Error> {
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
            Some(Payment {
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
            })
        }
    };
    let invoice = match invoice.object("invoice.")? {
        None => None,
        Some(i) => {
            let [id, customer_id, total_amount, issued_at, due_date, expires_at] =
                i.fields(["id", "customerId", "totalAmount", "issuedAt", "dueDate", "expiresAt"]);
            Some(Invoice {
                id: id.text()?,
                customer_id: customer_id.text()?,
                total_amount: total_amount.money("invoice.totalAmount.")?,
                issued_at: issued_at.date()?,
                due_date: due_date.date()?,
                expires_at: expires_at.date()?,
            })
        }
    };
    let payment_fee = payment_fee.money("paymentFee.")?;
    let external_transaction_id = external_transaction_id.text()?;
    Ok(LinkNotification(Box::new(LinkData {
        application_id,
        body: body.into(),
        id,
        payment,
        invoice,
        payment_fee,
        external_transaction_id,
        result,
    })))
}
