//! The authenticated REST notification: the raw `kr-answer` as received, the typed [`Payment`]
//! read from it, the common view the other schemes share, and apart, the unsigned `kr-src`.

use super::payment::{AnswerType, OrderCycle, OrderStatus, Payment, Transaction};
use crate::fingerprint::{Fingerprint, FingerprintBuilder};
use crate::form::{BackOfficeOperation, Nature, Source};
use crate::money::Amount;
use crate::types::{Mode, OperationType, Scheme, StatusClass, TransactionStatus};

/// An authenticated REST notification (`kr-*` fields, `kr-answer` of type `V4/Payment` or
/// `V3.1/IPNRequest`).
///
/// The payment is typed in [`payment`](Self::payment); the answer stays readable as received in
/// [`answer`](Self::answer). Every accessor reads the signed answer, but
/// [`unsigned_src`](Self::unsigned_src). See the [module documentation](super) for an example.
#[derive(Debug, Clone)]
pub struct RestNotification(Box<RestData>);

/// What a [`RestNotification`] holds, behind one box (see
/// [`FormNotification`](crate::form::FormNotification)): the typed payment is some 300 bytes.
#[derive(Debug, Clone)]
struct RestData {
    answer: String,
    unsigned_src: Option<Source>,
    payment: Payment,
}

impl RestNotification {
    pub(super) fn new(answer: String, unsigned_src: Option<Source>, payment: Payment) -> Self {
        Self(Box::new(RestData { answer, unsigned_src, payment }))
    }

    /// The `kr-answer` JSON text exactly as received (after form decoding, `\/` kept).
    pub fn answer(&self) -> &str {
        &self.0.answer
    }

    /// The type of the answer: its signed `_type` (a posted `kr-answer-type` agrees with it, or
    /// the notification was refused).
    pub fn answer_type(&self) -> Option<&AnswerType> {
        self.0.payment.answer_type()
    }

    /// `kr-src` as posted (the values of `vads_url_check_src`: `PAY`, `RETRY`, `MERCH_BO`...).
    ///
    /// **Not signed**: `kr-hash` covers `kr-answer` only, so whoever relays the request can change
    /// it. Show it, log it; do not decide on it. [`nature`](Self::nature) and
    /// [`fingerprint`](Self::fingerprint) do not read it.
    pub fn unsigned_src(&self) -> Option<&Source> {
        self.0.unsigned_src.as_ref()
    }

    /// The typed payment.
    pub fn payment(&self) -> &Payment {
        &self.0.payment
    }

    fn first_transaction(&self) -> Option<&Transaction> {
        self.0.payment.transactions().first()
    }

    /// The shop id (`shopId`).
    pub fn shop_id(&self) -> &str {
        self.0.payment.shop_id()
    }

    /// TEST or PRODUCTION (`orderDetails.mode`). Always `Some`: the mode chose the key.
    pub fn mode(&self) -> Option<Mode> {
        Some(self.0.payment.order_details().mode())
    }

    /// The merchant's order reference (`orderDetails.orderId`).
    pub fn order_id(&self) -> Option<&str> {
        self.0.payment.order_details().order_id()
    }

    /// The first transaction's `uuid`.
    pub fn transaction_id(&self) -> Option<&str> {
        self.first_transaction()?.uuid()
    }

    /// The first transaction's amount, or the order total when there is no transaction.
    pub fn amount(&self) -> Option<Amount> {
        match self.first_transaction() {
            Some(t) => t.amount(),
            None => self.0.payment.order_details().total_amount(),
        }
    }

    /// The first transaction's `detailedStatus`, or the `orderStatus` when it has none.
    pub fn status(&self) -> Option<&str> {
        match self.first_transaction().and_then(Transaction::detailed_status) {
            Some(status) => Some(status.as_str()),
            None => self.0.payment.order_status().map(OrderStatus::as_str),
        }
    }

    /// The class of [`status`](Self::status): the first transaction's `detailedStatus` class;
    /// without one, the `orderStatus`: `PAID` accepted, `RUNNING` and `PARTIALLY_PAID` pending,
    /// `ABANDONED` cancelled, `UNPAID` failed once the order is `CLOSED` and pending while `OPEN`.
    pub fn status_class(&self) -> StatusClass {
        if let Some(status) = self.first_transaction().and_then(Transaction::detailed_status) {
            return status.class();
        }
        match self.0.payment.order_status() {
            Some(OrderStatus::Paid) => StatusClass::Accepted,
            Some(OrderStatus::Running | OrderStatus::PartiallyPaid) => StatusClass::Pending,
            Some(OrderStatus::Abandoned) => StatusClass::Cancelled,
            Some(OrderStatus::Unpaid) if self.is_final() => StatusClass::Failed,
            Some(OrderStatus::Unpaid) => StatusClass::Pending,
            Some(OrderStatus::Unknown(_)) | None => StatusClass::Unknown,
        }
    }

    /// Whether the order is settled (`orderCycle` is `CLOSED`). While it is `OPEN` a refused
    /// payment is not final: the buyer may still retry.
    pub fn is_final(&self) -> bool {
        self.0.payment.order_cycle() == Some(&OrderCycle::Closed)
    }

    /// What the notification reports, read from the signed answer: it names the operation, not
    /// what triggered the delivery. The first transaction tells a Back Office operation apart (the
    /// heuristic of [`BackOfficeOperation`]): a `CREDIT` is a refund, a `CANCELLED` transaction a
    /// cancellation, an `AUTHORISED` (or `WAITING_AUTHORISATION`) one under manual validation a
    /// validation; any other answer reports a payment.
    ///
    /// The unsigned `kr-src` is not read, so a REST notification is never a retry, a manual replay
    /// or a recurring installment here: the fingerprint tells a replay, the answer's transactions
    /// an installment.
    pub fn nature(&self) -> Nature {
        self.back_office_operation().map_or(Nature::Payment, Nature::BackOffice)
    }

    fn back_office_operation(&self) -> Option<BackOfficeOperation> {
        let t = self.first_transaction()?;
        if t.operation_type() == Some(&OperationType::Credit) {
            return Some(BackOfficeOperation::Refund);
        }
        let status = t.detailed_status();
        if status == Some(&TransactionStatus::Cancelled) {
            return Some(BackOfficeOperation::Cancellation);
        }
        let validated = matches!(status, Some(TransactionStatus::Authorised | TransactionStatus::WaitingAuthorisation));
        (validated && t.manual_validation() == Some(true)).then_some(BackOfficeOperation::Validation)
    }

    /// The idempotency fingerprint, over the business content of the payment: `shopId`,
    /// `orderDetails.orderId`, `orderStatus`, `orderCycle`, and for each transaction its `uuid`,
    /// `detailedStatus`, `operationType`, `amount`, `currency` and `effectiveAmount`.
    ///
    /// Only the signed answer counts: a retry or a Back Office replay of the same answer (another
    /// `kr-src`, another `serverDate`, another `kr-hash`) has the same fingerprint; a refund (a new
    /// transaction), a status change or a changed amount has another.
    pub fn fingerprint(&self) -> Fingerprint {
        let p = &self.0.payment;
        let mut b = FingerprintBuilder::new(Scheme::Rest);
        b.field("shopId", Some(p.shop_id()))
            .field("orderId", p.order_details().order_id())
            .field("orderStatus", p.order_status().map(OrderStatus::as_str))
            .field("orderCycle", p.order_cycle().map(OrderCycle::as_str))
            .field("transactions", Some(&p.transactions().len().to_string()));
        for t in p.transactions() {
            let (amount, effective_amount) = t.minor_amounts();
            b.field("uuid", t.uuid())
                .field("detailedStatus", t.detailed_status().map(TransactionStatus::as_str))
                .field("operationType", t.operation_type().map(OperationType::as_str))
                .field("amount", amount.map(|m| m.to_string()).as_deref())
                .field("currency", t.currency().map(|c| c.code()))
                .field("effectiveAmount", effective_amount.map(|m| m.to_string()).as_deref());
        }
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(answer: &str, src: Option<&str>) -> RestNotification {
        let payment = Payment::typed(answer, "1", Mode::Test).unwrap();
        RestNotification::new(answer.to_owned(), src.map(Source::parse), payment)
    }

    fn order(status: &str, cycle: &str) -> RestNotification {
        notification(&format!(r#"{{"orderStatus":"{status}","orderCycle":"{cycle}"}}"#), None)
    }

    #[test]
    fn status_class_without_transaction_follows_the_order() {
        let cases = [
            ("PAID", "CLOSED", StatusClass::Accepted),
            ("RUNNING", "OPEN", StatusClass::Pending),
            ("PARTIALLY_PAID", "OPEN", StatusClass::Pending),
            ("ABANDONED", "CLOSED", StatusClass::Cancelled),
            ("UNPAID", "CLOSED", StatusClass::Failed),
            ("UNPAID", "OPEN", StatusClass::Pending),
            ("SOMETHING_NEW", "CLOSED", StatusClass::Unknown),
        ];
        for (status, cycle, class) in cases {
            let n = order(status, cycle);
            assert_eq!(n.status_class(), class, "{status} {cycle}");
            assert_eq!(n.status(), Some(status));
            assert_eq!(n.is_final(), cycle == "CLOSED");
        }
    }

    #[test]
    fn first_transaction_decides_status_and_amount() {
        let n = notification(
            r#"{"orderStatus":"UNPAID","orderCycle":"OPEN",
            "orderDetails":{"orderTotalAmount":1000,"orderCurrency":"EUR"},
            "transactions":[{"uuid":"a","amount":400,"currency":"EUR","detailedStatus":"REFUSED"},
                            {"uuid":"b","amount":600,"currency":"EUR","detailedStatus":"AUTHORISED"}]}"#,
            None,
        );
        assert_eq!(n.status(), Some("REFUSED"));
        assert_eq!(n.status_class(), StatusClass::Failed);
        assert!(!n.is_final(), "the order is OPEN: the buyer may retry");
        assert_eq!(n.transaction_id(), Some("a"));
        assert_eq!(n.amount().unwrap().to_string(), "4.00 EUR");

        let without = notification(
            r#"{"orderStatus":"PAID","orderDetails":{"orderTotalAmount":1000,"orderCurrency":"EUR"}}"#,
            None,
        );
        assert_eq!(without.amount().unwrap().to_string(), "10.00 EUR");
        assert_eq!(without.transaction_id(), None);
    }

    #[test]
    fn nature_comes_from_the_signed_answer_not_from_kr_src() {
        let paid = r#"{"transactions":[{"operationType":"DEBIT","detailedStatus":"CAPTURED"}]}"#;
        let refund = r#"{"transactions":[{"operationType":"CREDIT","detailedStatus":"CAPTURED"}]}"#;
        let cancel = r#"{"transactions":[{"operationType":"DEBIT","detailedStatus":"CANCELLED"}]}"#;
        let validated = r#"{"transactions":[{"detailedStatus":"AUTHORISED",
            "transactionDetails":{"cardDetails":{"manualValidation":"YES"}}}]}"#;
        let to_validate = r#"{"transactions":[{"detailedStatus":"AUTHORISED_TO_VALIDATE",
            "transactionDetails":{"cardDetails":{"manualValidation":"YES"}}}]}"#;
        let cases = [
            (paid, Nature::Payment),
            (refund, Nature::BackOffice(BackOfficeOperation::Refund)),
            (cancel, Nature::BackOffice(BackOfficeOperation::Cancellation)),
            (validated, Nature::BackOffice(BackOfficeOperation::Validation)),
            (to_validate, Nature::Payment),
            ("{}", Nature::Payment),
        ];
        for (answer, nature) in cases {
            for src in [Some("PAY"), Some("RETRY"), Some("BO"), Some("REC"), Some("MERCH_BO"), Some("X"), None] {
                let n = notification(answer, src);
                assert_eq!(n.nature(), nature, "{src:?} {answer}");
                assert_eq!(n.unsigned_src().map(Source::as_str), src, "kept as posted");
            }
        }
    }

    #[test]
    fn fingerprint_covers_business_content_only() {
        let base = r#"{"shopId":"1","orderStatus":"PAID","orderCycle":"CLOSED","serverDate":"2018-12-11T19:09:32Z",
            "orderDetails":{"orderId":"o"},"transactions":[{"uuid":"u","amount":990,"currency":"EUR",
            "detailedStatus":"AUTHORISED","operationType":"DEBIT","transactionDetails":{"effectiveAmount":990}}]}"#;
        let fp = notification(base, Some("PAY")).fingerprint();
        assert_eq!(fp, notification(base, Some("RETRY")).fingerprint());
        let later = base.replace("2018-12-11T19:09:32Z", "2018-12-12T08:00:00Z");
        assert_eq!(fp, notification(&later, Some("BO")).fingerprint(), "serverDate is not content");
        for (from, to) in [
            ("AUTHORISED", "CAPTURED"),
            (r#""amount":990"#, r#""amount":991"#),
            (r#""effectiveAmount":990"#, r#""effectiveAmount":118138"#),
            ("DEBIT", "CREDIT"),
            (r#""uuid":"u""#, r#""uuid":"v""#),
            (r#""orderId":"o""#, r#""orderId":null"#),
            ("CLOSED", "OPEN"),
            (r#""orderStatus":"PAID""#, r#""orderStatus":"UNPAID""#),
            (r#""currency":"EUR""#, r#""currency":"XPF""#),
        ] {
            let changed = base.replace(from, to);
            assert_ne!(changed, base);
            assert_ne!(fp, notification(&changed, Some("PAY")).fingerprint(), "{from} -> {to}");
        }
        let two = base.replace("}]}", r#"},{"uuid":"r","amount":990,"operationType":"CREDIT"}]}"#);
        assert_ne!(fp, notification(&two, Some("MERCH_BO")).fingerprint(), "a refund transaction");
    }
}
