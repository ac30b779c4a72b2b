//! The typed form notification: the common fields parsed once, after the signature check, and
//! every received field still reachable by name.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::FormFields;
use crate::error::Error;
use crate::fingerprint::{Fingerprint, FingerprintBuilder};
use crate::money::{Amount, Currency};
use crate::types::{Mode, OperationType, Scheme, TransactionStatus, wire_enum};

wire_enum! {
    /// What triggered a notification: `vads_url_check_src` (form, signed), `kr-src` (REST, not
    /// signed: [`RestNotification::unsigned_src`](crate::rest::RestNotification::unsigned_src)).
    Source {
        /// End of a payment made through the payment page.
        Pay = "PAY",
        /// The merchant pressed "send the notification" in the Back Office (a manual replay).
        Bo = "BO",
        /// Authorisation finally requested for a deferred payment.
        BatchAuto = "BATCH_AUTO",
        /// Status changed after synchronisation with the acquirer.
        Batch = "BATCH",
        /// Data collection form.
        Dcf = "DCF",
        /// An operation made in the Back Office (refund, cancellation, validation...).
        MerchBo = "MERCH_BO",
        /// Payment order (e-mail, URL or SMS payment link).
        PaymentOrder = "PAYMENT_ORDER",
        /// Recurring payment (subscription installment).
        Rec = "REC",
        /// Automatic retry of a notification that failed.
        Retry = "RETRY",
    }
}

impl Source {
    /// Why a notification from this source was sent. `back_office` tells a Back Office operation
    /// apart; it is called only for `MERCH_BO`, each scheme reading its own fields.
    pub(crate) fn nature(&self, back_office: impl FnOnce() -> BackOfficeOperation) -> Nature {
        match self {
            Source::Pay => Nature::Payment,
            Source::Bo => Nature::ManualReplay,
            Source::Batch | Source::BatchAuto => Nature::Batch,
            Source::Rec => Nature::Recurring,
            Source::PaymentOrder => Nature::PaymentOrder,
            Source::Dcf => Nature::DataCollection,
            Source::Retry => Nature::Retry,
            Source::MerchBo => Nature::BackOffice(back_office()),
            Source::Unknown(_) => Nature::Unknown,
        }
    }
}

/// A Back Office operation, told apart by the heuristic of PROTOCOLS 1.3: no field names the
/// operation, so this reads the fields that differ. Check your own records where it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackOfficeOperation {
    /// `vads_operation_type=CREDIT`.
    Refund,
    /// `vads_trans_status=CANCELLED`.
    Cancellation,
    /// A transaction created with manual validation (`vads_validation_mode=1`) now authorised
    /// (or waiting for authorisation).
    Validation,
    /// `vads_identifier_status=CREATED`.
    TokenCreation,
    /// `vads_identifier_status=UPDATED`.
    TokenUpdate,
    /// Any other debit: a manual payment or a duplication (a `vads_trans_uuid` you have not seen)
    /// or an update (a known uuid with changed amounts or dates).
    PaymentOrUpdate,
}

/// Why the gateway sent this notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Nature {
    /// The end of a payment on the payment page (also token registration, subscription creation,
    /// abandonment).
    Payment,
    /// An operation made in the Back Office.
    BackOffice(BackOfficeOperation),
    /// The merchant asked the Back Office to send the notification again.
    ManualReplay,
    /// A status change after synchronisation with the acquirer, or a deferred authorisation.
    Batch,
    /// A subscription installment.
    Recurring,
    /// A payment order (payment link by e-mail, URL, SMS).
    PaymentOrder,
    /// A data collection form.
    DataCollection,
    /// The gateway's automatic retry of a notification that was not acknowledged.
    Retry,
    /// The source is unknown or absent.
    Unknown,
}

impl Nature {
    /// A short label: `payment`, `back-office refund`, `retry`...
    pub fn label(&self) -> &'static str {
        match self {
            Nature::Payment => "payment",
            Nature::BackOffice(op) => match op {
                BackOfficeOperation::Refund => "back-office refund",
                BackOfficeOperation::Cancellation => "back-office cancellation",
                BackOfficeOperation::Validation => "back-office validation",
                BackOfficeOperation::TokenCreation => "back-office token creation",
                BackOfficeOperation::TokenUpdate => "back-office token update",
                BackOfficeOperation::PaymentOrUpdate => "back-office payment or update",
            },
            Nature::ManualReplay => "manual replay",
            Nature::Batch => "batch",
            Nature::Recurring => "recurring installment",
            Nature::PaymentOrder => "payment order",
            Nature::DataCollection => "data collection",
            Nature::Retry => "retry",
            Nature::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Nature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// An authenticated form notification (`vads_*`).
///
/// The common fields are typed; every received field stays reachable with [`get`](Self::get)
/// and [`fields`](Self::fields).
#[derive(Debug, Clone)]
pub struct FormNotification(Box<FormData>);

/// What a [`FormNotification`] holds, behind one box: a notification moves from the verifier
/// through the middleware into the handler's future, and a pointer moves for free where these
/// 200-odd bytes were copied at every step.
#[derive(Debug, Clone)]
struct FormData {
    fields: FormFields,
    mode: Mode,
    typed: Typed,
}

fn parse_int<T: std::str::FromStr>(value: Option<&str>, name: &'static str) -> Result<Option<T>, Error> {
    match value {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| Error::malformed(Scheme::Form, format!("{name} is not an integer"))),
    }
}

/// A value, absent when empty (the gateway sends empty fields it has no value for).
fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// `YYYYMMDDHHMMSS`, UTC.
pub(crate) fn parse_trans_date(value: &str) -> Option<OffsetDateTime> {
    let digits: &[u8; 14] = value.as_bytes().try_into().ok()?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| digits[range].iter().fold(0_u16, |n, d| n * 10 + u16::from(d - b'0'));
    let month = Month::try_from(number(4..6) as u8).ok()?;
    let date = Date::from_calendar_date(i32::from(number(0..4)), month, number(6..8) as u8).ok()?;
    let time = Time::from_hms(number(8..10) as u8, number(10..12) as u8, number(12..14) as u8).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// The received values of the typed fields (`vads_amount`, ... `vads_url_check_src`, as the
/// field names say; `status` is `vads_trans_status`, `source` `vads_url_check_src`).
pub(crate) struct RawTyped<'a> {
    pub(crate) amount: Option<&'a str>,
    pub(crate) effective_amount: Option<&'a str>,
    pub(crate) operation_type: Option<&'a str>,
    pub(crate) recurrence_number: Option<&'a str>,
    pub(crate) sequence_number: Option<&'a str>,
    pub(crate) trans_date: Option<&'a str>,
    pub(crate) status: Option<&'a str>,
    pub(crate) source: Option<&'a str>,
}

/// The typed values, parsed from [`RawTyped`] once the signature is checked.
#[derive(Debug, Clone)]
pub(crate) struct Typed {
    amount: Option<i64>,
    effective_amount: Option<i64>,
    trans_date: Option<OffsetDateTime>,
    status: Option<TransactionStatus>,
    source: Option<Source>,
    operation_type: Option<OperationType>,
    sequence_number: Option<u32>,
    recurrence_number: Option<u32>,
}

impl Typed {
    /// Parses the values; an empty value is an absent one.
    ///
    /// # Errors
    ///
    /// `Malformed` for an integer or a date that does not parse.
    pub(crate) fn parse(raw: RawTyped<'_>) -> Result<Self, Error> {
        let trans_date = match raw.trans_date {
            None | Some("") => None,
            Some(v) => Some(
                parse_trans_date(v)
                    .ok_or_else(|| Error::malformed(Scheme::Form, "vads_trans_date is not YYYYMMDDHHMMSS"))?,
            ),
        };
        Ok(Self {
            amount: parse_int(raw.amount, "vads_amount")?,
            effective_amount: parse_int(raw.effective_amount, "vads_effective_amount")?,
            trans_date,
            status: non_empty(raw.status).map(TransactionStatus::parse),
            source: non_empty(raw.source).map(Source::parse),
            operation_type: non_empty(raw.operation_type).map(OperationType::parse),
            sequence_number: parse_int(raw.sequence_number, "vads_sequence_number")?,
            recurrence_number: parse_int(raw.recurrence_number, "vads_recurrence_number")?,
        })
    }
}

impl FormNotification {
    /// Types the fields of an authenticated notification.
    #[cfg(test)]
    pub(crate) fn from_fields(fields: FormFields, mode: Mode) -> Result<Self, Error> {
        let typed = Typed::parse(super::read(&fields).typed)?;
        Ok(Self::new(fields, mode, typed))
    }

    /// The notification of authenticated fields and their typed values.
    pub(crate) fn new(fields: FormFields, mode: Mode, typed: Typed) -> Self {
        Self(Box::new(FormData { fields, mode, typed }))
    }

    /// A received field by name (`vads_*` or not), as decoded.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.fields.get(name)
    }

    /// Every received field, sorted by name.
    pub fn fields(&self) -> &FormFields {
        &self.0.fields
    }

    fn non_empty(&self, name: &str) -> Option<&str> {
        non_empty(self.0.fields.get(name))
    }

    /// The shop id (`vads_site_id`).
    pub fn shop_id(&self) -> &str {
        self.0.fields.get("vads_site_id").unwrap_or_default()
    }

    /// TEST or PRODUCTION (`vads_ctx_mode`).
    pub fn mode(&self) -> Mode {
        self.0.mode
    }

    /// Whether this is a server-to-server notification (`vads_hash` present) rather than the
    /// buyer's browser return.
    pub fn is_ipn(&self) -> bool {
        self.0.fields.contains("vads_hash")
    }

    /// The merchant's order reference (`vads_order_id`).
    pub fn order_id(&self) -> Option<&str> {
        self.non_empty("vads_order_id")
    }

    /// The unique transaction reference, 32 hex characters (`vads_trans_uuid`).
    pub fn trans_uuid(&self) -> Option<&str> {
        self.non_empty("vads_trans_uuid")
    }

    /// The transaction number, unique per shop and UTC day (`vads_trans_id`).
    pub fn trans_id(&self) -> Option<&str> {
        self.non_empty("vads_trans_id")
    }

    /// The transaction date, UTC (`vads_trans_date`).
    pub fn trans_date(&self) -> Option<OffsetDateTime> {
        self.0.typed.trans_date
    }

    /// The currency (`vads_currency`, ISO 4217 numeric, mapped to the alpha code).
    pub fn currency(&self) -> Option<Currency> {
        self.non_empty("vads_currency").map(Currency::from_numeric)
    }

    /// The amount asked, in minor units (`vads_amount`, `vads_currency`).
    pub fn amount(&self) -> Option<Amount> {
        Some(Amount::Minor { minor: self.0.typed.amount?, currency: self.currency()? })
    }

    /// The amount in the currency actually used (`vads_effective_amount`,
    /// `vads_effective_currency`, falling back to `vads_currency`).
    pub fn effective_amount(&self) -> Option<Amount> {
        let currency =
            self.non_empty("vads_effective_currency").map(Currency::from_numeric).or_else(|| self.currency())?;
        Some(Amount::Minor { minor: self.0.typed.effective_amount?, currency })
    }

    /// DEBIT or CREDIT (`vads_operation_type`).
    pub fn operation_type(&self) -> Option<&OperationType> {
        self.0.typed.operation_type.as_ref()
    }

    /// The transaction status (`vads_trans_status`); its [`class`](TransactionStatus::class) is
    /// what most handlers branch on.
    pub fn status(&self) -> Option<&TransactionStatus> {
        self.0.typed.status.as_ref()
    }

    /// What triggered the notification (`vads_url_check_src`).
    pub fn source(&self) -> Option<&Source> {
        self.0.typed.source.as_ref()
    }

    /// The installment number of a multiple payment (`vads_sequence_number`).
    pub fn sequence_number(&self) -> Option<u32> {
        self.0.typed.sequence_number
    }

    /// The installment number of a subscription (`vads_recurrence_number`).
    pub fn recurrence_number(&self) -> Option<u32> {
        self.0.typed.recurrence_number
    }

    /// The subscription id (`vads_subscription`).
    pub fn subscription(&self) -> Option<&str> {
        self.non_empty("vads_subscription")
    }

    /// The payment token (`vads_identifier`).
    pub fn token(&self) -> Option<&str> {
        self.non_empty("vads_identifier")
    }

    /// What happened to the token: `CREATED`, `UPDATED`, `NOT_CREATED`... (`vads_identifier_status`).
    pub fn token_status(&self) -> Option<&str> {
        self.non_empty("vads_identifier_status")
    }

    /// The card brand (`vads_card_brand`).
    pub fn card_brand(&self) -> Option<&str> {
        self.non_empty("vads_card_brand")
    }

    /// The masked card number (`vads_card_number`).
    pub fn card_number(&self) -> Option<&str> {
        self.non_empty("vads_card_number")
    }

    /// The gateway's result code, `00` for success (`vads_result`).
    pub fn result(&self) -> Option<&str> {
        self.non_empty("vads_result")
    }

    /// The payment configuration: `SINGLE`, `MULTI:...` (`vads_payment_config`).
    pub fn payment_config(&self) -> Option<&str> {
        self.non_empty("vads_payment_config")
    }

    /// The page action: `PAYMENT`, `REGISTER`, `REGISTER_PAY`... (`vads_page_action`).
    pub fn page_action(&self) -> Option<&str> {
        self.non_empty("vads_page_action")
    }

    /// Why the notification was sent. For Back Office operations this is a heuristic
    /// (see [`BackOfficeOperation`]).
    pub fn nature(&self) -> Nature {
        self.0.typed.source.as_ref().map_or(Nature::Unknown, |source| source.nature(|| self.back_office_operation()))
    }

    /// The idempotency fingerprint, from what the notification means rather than how its fields
    /// are named, read through the typed accessors. For a transaction (`vads_trans_uuid`): shop,
    /// mode, uuid, number, date, operation type, status, amount and currency; each installment
    /// of a multiple or recurring payment is a transaction of its own. Otherwise (a token
    /// registered without payment): shop, mode, date, order, token and token status. The source
    /// (`vads_url_check_src`) and the delivery fields are not part of it, so a `RETRY` or a Back
    /// Office replay has the fingerprint of the notification it repeats, while a refund, a status
    /// change or another amount has another.
    ///
    /// Form field names are not signed: a fingerprint over names would let whoever holds one
    /// signed message rename an unimportant field and have it processed again.
    pub fn fingerprint(&self) -> Fingerprint {
        let typed = &self.0.typed;
        let mut builder = FingerprintBuilder::new(Scheme::Form);
        builder.field("shop", Some(self.shop_id())).field("mode", Some(self.mode().as_str()));
        match self.trans_uuid() {
            Some(uuid) => {
                let amount = typed.amount.map(|n| n.to_string());
                builder
                    .field("trans_uuid", Some(uuid))
                    .field("trans_id", self.trans_id())
                    .field("trans_date", self.non_empty("vads_trans_date"))
                    .field("operation_type", self.operation_type().map(OperationType::as_str))
                    .field("status", self.status().map(TransactionStatus::as_str))
                    .field("amount", amount.as_deref())
                    .field("currency", self.non_empty("vads_currency"));
            }
            None => {
                builder
                    .field("trans_date", self.non_empty("vads_trans_date"))
                    .field("order_id", self.order_id())
                    .field("token", self.token())
                    .field("token_status", self.token_status());
            }
        }
        builder.finish()
    }

    fn back_office_operation(&self) -> BackOfficeOperation {
        use TransactionStatus as S;
        if self.0.typed.operation_type == Some(OperationType::Credit) {
            return BackOfficeOperation::Refund;
        }
        if self.0.typed.status == Some(S::Cancelled) {
            return BackOfficeOperation::Cancellation;
        }
        match self.token_status() {
            Some("CREATED") => return BackOfficeOperation::TokenCreation,
            Some("UPDATED") => return BackOfficeOperation::TokenUpdate,
            _ => {}
        }
        let validated = matches!(self.0.typed.status, Some(S::Authorised | S::WaitingAuthorisation));
        if validated && self.get("vads_validation_mode") == Some("1") {
            return BackOfficeOperation::Validation;
        }
        BackOfficeOperation::PaymentOrUpdate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(body: &str) -> FormNotification {
        FormNotification::from_fields(FormFields::parse(body.as_bytes()).unwrap(), Mode::Test).unwrap()
    }

    #[test]
    fn natures() {
        let cases = [
            ("vads_url_check_src=PAY", Nature::Payment),
            ("vads_url_check_src=RETRY", Nature::Retry),
            ("vads_url_check_src=BO", Nature::ManualReplay),
            ("vads_url_check_src=REC", Nature::Recurring),
            ("vads_url_check_src=BATCH_AUTO", Nature::Batch),
            ("vads_url_check_src=MERCH_BO&vads_operation_type=CREDIT", Nature::BackOffice(BackOfficeOperation::Refund)),
            (
                "vads_url_check_src=MERCH_BO&vads_operation_type=DEBIT&vads_trans_status=CANCELLED",
                Nature::BackOffice(BackOfficeOperation::Cancellation),
            ),
            (
                "vads_url_check_src=MERCH_BO&vads_identifier=abc&vads_identifier_status=CREATED",
                Nature::BackOffice(BackOfficeOperation::TokenCreation),
            ),
            (
                "vads_url_check_src=MERCH_BO&vads_identifier_status=UPDATED",
                Nature::BackOffice(BackOfficeOperation::TokenUpdate),
            ),
            (
                "vads_url_check_src=MERCH_BO&vads_trans_status=AUTHORISED&vads_validation_mode=1",
                Nature::BackOffice(BackOfficeOperation::Validation),
            ),
            (
                "vads_url_check_src=MERCH_BO&vads_trans_status=AUTHORISED&vads_validation_mode=0",
                Nature::BackOffice(BackOfficeOperation::PaymentOrUpdate),
            ),
            ("vads_url_check_src=SOMETHING", Nature::Unknown),
            ("vads_amount=1", Nature::Unknown),
        ];
        for (body, nature) in cases {
            assert_eq!(notification(body).nature(), nature, "{body}");
        }
    }

    #[test]
    fn fingerprint_ignores_delivery_fields_only() {
        let pay = notification("vads_trans_uuid=u&vads_amount=1&vads_url_check_src=PAY&vads_hash=h1");
        let retry = notification("vads_trans_uuid=u&vads_amount=1&vads_url_check_src=RETRY&vads_hash=h2");
        let refund =
            notification("vads_trans_uuid=u&vads_amount=1&vads_url_check_src=MERCH_BO&vads_operation_type=CREDIT");
        let other = notification("vads_trans_uuid=u&vads_amount=2&vads_url_check_src=PAY");
        assert_eq!(pay.fingerprint(), retry.fingerprint());
        assert_ne!(pay.fingerprint(), refund.fingerprint());
        assert_ne!(pay.fingerprint(), other.fingerprint());
    }

    #[test]
    fn typed_fields() {
        let n = notification(
            "vads_amount=4525&vads_currency=978&vads_effective_amount=530000&vads_effective_currency=953&\
             vads_trans_date=20261120101500&vads_trans_status=NEW_STATUS&vads_order_id=&vads_sequence_number=2",
        );
        assert_eq!(n.amount().unwrap().to_string(), "45.25 EUR");
        assert_eq!(n.effective_amount().unwrap().to_string(), "530000 XPF");
        assert_eq!(n.trans_date().unwrap().unix_timestamp(), 1_795_169_700);
        assert_eq!(n.status().unwrap().as_str(), "NEW_STATUS");
        assert_eq!(n.order_id(), None, "empty means absent");
        assert_eq!(n.sequence_number(), Some(2));
    }

    #[test]
    fn trans_dates() {
        let date = |v| parse_trans_date(v).map(|d| d.unix_timestamp());
        assert_eq!(date("20261120101500"), Some(1_795_169_700));
        assert_eq!(date("20240229235959"), Some(1_709_251_199));
        for bad in [
            "20230229000000",
            "20261320101500",
            "20261120241500",
            "20261120106000",
            "2026112010150",
            "202611201015000",
            "2026112010150x",
            "+0261120101500",
            "",
        ] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_typed_values_are_malformed() {
        for body in ["vads_amount=12.5", "vads_trans_date=2026-11-20", "vads_sequence_number=x"] {
            let r = FormNotification::from_fields(FormFields::parse(body.as_bytes()).unwrap(), Mode::Test);
            assert!(matches!(r, Err(Error::Malformed { .. })), "{body}");
        }
    }
}
