//! The typed `kr-answer` (`V4/Payment`, also the older `V3.1/IPNRequest`): order, customer and
//! transactions, read from the authenticated JSON. Unknown members are skipped, `null` is absent,
//! unknown values of enumerations are kept.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::answer;
use crate::error::Error;
use crate::json::{JsonFieldError, Raw};
use crate::money::{Amount, Currency};
use crate::types::{Mode, OperationType, Scheme, TransactionStatus, wire_enum};

wire_enum! {
    /// The type of a `kr-answer`: its signed `_type` member (`kr-answer-type`, posted beside it,
    /// is not signed and must agree with it).
    AnswerType {
        /// The REST API V4 payment.
        V4Payment = "V4/Payment",
        /// The older IPN answer, read as a payment (same members).
        V31IpnRequest = "V3.1/IPNRequest",
    }
}

wire_enum! {
    /// Whether the order may still change (`orderCycle`): while `OPEN` the buyer may retry a
    /// refused payment.
    OrderCycle {
        Open = "OPEN",
        Closed = "CLOSED",
    }
}

wire_enum! {
    /// The status of an order (`orderStatus`) or of a transaction (`status`).
    OrderStatus {
        Paid = "PAID",
        Unpaid = "UNPAID",
        Running = "RUNNING",
        PartiallyPaid = "PARTIALLY_PAID",
        Abandoned = "ABANDONED",
    }
}

/// Typing errors are the gateway's: the answer is authenticated by then.
pub(super) fn malformed(context: &str, e: JsonFieldError) -> Error {
    Error::malformed(Scheme::Rest, format!("{context}{e}"))
}

fn date(member: Raw<'_>, context: &str, key: &str) -> Result<Option<OffsetDateTime>, Error> {
    member
        .str(key)
        .map_err(|e| malformed(context, e))?
        .map(|s| {
            OffsetDateTime::parse(&s, &Rfc3339)
                .map_err(|_| Error::malformed(Scheme::Rest, format!("{context}{key} is not an RFC 3339 date")))
        })
        .transpose()
}

/// An authenticated payment (`kr-answer`).
///
/// Every getter returns what the answer holds; a member absent or `null` is `None`.
#[derive(Debug, Clone)]
pub struct Payment {
    answer_type: Option<AnswerType>,
    shop_id: String,
    order_cycle: Option<OrderCycle>,
    order_status: Option<OrderStatus>,
    server_date: Option<OffsetDateTime>,
    order_details: OrderDetails,
    customer: Customer,
    transactions: Vec<Transaction>,
}

impl Payment {
    /// Types an answer whose shop id and mode were read (and authenticated) already.
    pub(super) fn from_answer(
        answer: &answer::Answer<'_>,
        order_details: &answer::OrderDetails<'_>,
        shop_id: String,
        mode: Mode,
    ) -> Result<Self, Error> {
        let e = |e| malformed("", e);
        let transactions = answer
            .transactions
            .get("transactions")
            .map_err(e)?
            .unwrap_or_default()
            .iter()
            .map(Transaction::from_answer)
            .collect::<Result<_, _>>()?;
        let no_customer = answer::Customer::default();
        Ok(Self {
            answer_type: answer.answer_type.str("_type").map_err(e)?.as_deref().map(AnswerType::parse),
            shop_id,
            order_cycle: answer.order_cycle.str("orderCycle").map_err(e)?.as_deref().map(OrderCycle::parse),
            order_status: answer.order_status.str("orderStatus").map_err(e)?.as_deref().map(OrderStatus::parse),
            server_date: date(answer.server_date, "", "serverDate")?,
            order_details: OrderDetails::from_answer(order_details, mode)?,
            customer: Customer::from_answer(answer.customer.get("customer").map_err(e)?.unwrap_or(&no_customer))?,
            transactions,
        })
    }

    /// What the answer is (`_type`): `V4/Payment`, or the older `V3.1/IPNRequest`.
    pub fn answer_type(&self) -> Option<&AnswerType> {
        self.answer_type.as_ref()
    }

    /// The shop id (`shopId`).
    pub fn shop_id(&self) -> &str {
        &self.shop_id
    }

    /// `OPEN` or `CLOSED` (`orderCycle`).
    pub fn order_cycle(&self) -> Option<&OrderCycle> {
        self.order_cycle.as_ref()
    }

    /// The order's status (`orderStatus`).
    pub fn order_status(&self) -> Option<&OrderStatus> {
        self.order_status.as_ref()
    }

    /// When the gateway wrote the answer (`serverDate`).
    pub fn server_date(&self) -> Option<OffsetDateTime> {
        self.server_date
    }

    /// The order (`orderDetails`).
    pub fn order_details(&self) -> &OrderDetails {
        &self.order_details
    }

    /// The buyer (`customer`).
    pub fn customer(&self) -> &Customer {
        &self.customer
    }

    /// The transactions (`transactions`), in the answer's order.
    pub fn transactions(&self) -> &[Transaction] {
        &self.transactions
    }
}

#[cfg(test)]
impl Payment {
    /// Reads and types an answer without a signature, for the tests of the typing.
    pub(super) fn typed(text: &str, shop_id: &str, mode: Mode) -> Result<Self, Error> {
        let answer =
            answer::Answer::read(text).map_err(|_| Error::malformed(Scheme::Rest, "kr-answer is not a JSON object"))?;
        let no_details = answer::OrderDetails::default();
        let details = answer.order_details.get("orderDetails").map_err(|e| malformed("", e))?.unwrap_or(&no_details);
        Self::from_answer(&answer, details, shop_id.to_owned(), mode)
    }
}

/// The order (`orderDetails`).
#[derive(Debug, Clone)]
pub struct OrderDetails {
    mode: Mode,
    order_id: Option<String>,
    total_amount: Option<i64>,
    currency: Option<Currency>,
}

impl OrderDetails {
    fn from_answer(o: &answer::OrderDetails<'_>, mode: Mode) -> Result<Self, Error> {
        const CONTEXT: &str = "orderDetails.";
        let e = |e| malformed(CONTEXT, e);
        Ok(Self {
            mode,
            order_id: o.order_id.string("orderId").map_err(e)?,
            total_amount: o.total_amount.i64("orderTotalAmount").map_err(e)?,
            currency: o.currency.str("orderCurrency").map_err(e)?.as_deref().map(Currency::from_alpha),
        })
    }

    /// TEST or PRODUCTION (`mode`).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The merchant's order reference (`orderId`).
    pub fn order_id(&self) -> Option<&str> {
        self.order_id.as_deref()
    }

    /// The order total in minor units, with its currency (`orderTotalAmount`, `orderCurrency`).
    pub fn total_amount(&self) -> Option<Amount> {
        Some(Amount::Minor { minor: self.total_amount?, currency: self.currency.clone()? })
    }

    /// The order currency (`orderCurrency`, ISO 4217 alpha).
    pub fn currency(&self) -> Option<&Currency> {
        self.currency.as_ref()
    }
}

/// The buyer (`customer`): the members a shop matches orders on. The rest of the answer stays
/// readable in [`RestNotification::answer`](super::RestNotification::answer).
#[derive(Debug, Clone)]
pub struct Customer {
    email: Option<String>,
    reference: Option<String>,
}

impl Customer {
    fn from_answer(o: &answer::Customer<'_>) -> Result<Self, Error> {
        let e = |e| malformed("customer.", e);
        Ok(Self { email: o.email.string("email").map_err(e)?, reference: o.reference.text("reference").map_err(e)? })
    }

    /// The buyer's e-mail address (`email`).
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The merchant's reference for the buyer (`reference`).
    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }
}

/// One transaction of a payment (`transactions[]`).
#[derive(Debug, Clone)]
pub struct Transaction {
    uuid: Option<String>,
    amount: Option<i64>,
    currency: Option<Currency>,
    status: Option<OrderStatus>,
    detailed_status: Option<TransactionStatus>,
    operation_type: Option<OperationType>,
    payment_method_type: Option<String>,
    payment_method_token: Option<String>,
    error_code: Option<String>,
    detailed_error_code: Option<String>,
    metadata: Option<String>,
    creation_date: Option<OffsetDateTime>,
    effective_amount: Option<i64>,
    effective_currency: Option<Currency>,
    sequence_number: Option<u32>,
    parent_transaction_uuid: Option<String>,
    card_brand: Option<String>,
    card_pan: Option<String>,
    legacy_trans_id: Option<String>,
    manual_validation: Option<bool>,
}

impl Transaction {
    fn from_answer(o: &answer::Transaction<'_>) -> Result<Self, Error> {
        const CONTEXT: &str = "transactions[].";
        const DETAILS: &str = "transactions[].transactionDetails.";
        const CARD: &str = "transactions[].transactionDetails.cardDetails.";
        let e = |e| malformed(CONTEXT, e);
        let no_details = answer::TransactionDetails::default();
        let details = o.details.get("transactionDetails").map_err(e)?.unwrap_or(&no_details);
        let d = |e| malformed(DETAILS, e);
        let no_card = answer::CardDetails::default();
        let card = details.card.get("cardDetails").map_err(d)?.unwrap_or(&no_card);
        let c = |e| malformed(CARD, e);
        let sequence_number = match details.sequence_number.i64("sequenceNumber").map_err(d)? {
            None => None,
            Some(n) => Some(
                u32::try_from(n)
                    .map_err(|_| Error::malformed(Scheme::Rest, format!("{DETAILS}sequenceNumber is out of range")))?,
            ),
        };
        let manual_validation = match card.manual_validation.str("manualValidation").map_err(c)?.as_deref() {
            Some("YES") => Some(true),
            Some("NO") => Some(false),
            _ => None,
        };
        Ok(Self {
            uuid: o.uuid.string("uuid").map_err(e)?,
            amount: o.amount.i64("amount").map_err(e)?,
            currency: o.currency.str("currency").map_err(e)?.as_deref().map(Currency::from_alpha),
            status: o.status.str("status").map_err(e)?.as_deref().map(OrderStatus::parse),
            detailed_status: o
                .detailed_status
                .str("detailedStatus")
                .map_err(e)?
                .as_deref()
                .map(TransactionStatus::parse),
            operation_type: o.operation_type.str("operationType").map_err(e)?.as_deref().map(OperationType::parse),
            payment_method_type: o.payment_method_type.string("paymentMethodType").map_err(e)?,
            payment_method_token: o.payment_method_token.string("paymentMethodToken").map_err(e)?,
            error_code: o.error_code.text("errorCode").map_err(e)?,
            detailed_error_code: o.detailed_error_code.text("detailedErrorCode").map_err(e)?,
            metadata: o.metadata.raw().map(str::to_owned),
            creation_date: date(o.creation_date, CONTEXT, "creationDate")?,
            effective_amount: details.effective_amount.i64("effectiveAmount").map_err(d)?,
            effective_currency: details
                .effective_currency
                .str("effectiveCurrency")
                .map_err(d)?
                .as_deref()
                .map(Currency::from_alpha),
            sequence_number,
            parent_transaction_uuid: details.parent_transaction_uuid.string("parentTransactionUuid").map_err(d)?,
            card_brand: card.effective_brand.string("effectiveBrand").map_err(c)?,
            card_pan: card.pan.string("pan").map_err(c)?,
            legacy_trans_id: card.legacy_trans_id.text("legacyTransId").map_err(c)?,
            manual_validation,
        })
    }

    /// The unique transaction reference, 32 hex characters (`uuid`).
    pub fn uuid(&self) -> Option<&str> {
        self.uuid.as_deref()
    }

    /// The amount in minor units, with its currency (`amount`, `currency`).
    pub fn amount(&self) -> Option<Amount> {
        Some(Amount::Minor { minor: self.amount?, currency: self.currency.clone()? })
    }

    /// The currency (`currency`, ISO 4217 alpha).
    pub fn currency(&self) -> Option<&Currency> {
        self.currency.as_ref()
    }

    /// `amount` and `transactionDetails.effectiveAmount` in minor units, even without a currency.
    pub(super) fn minor_amounts(&self) -> (Option<i64>, Option<i64>) {
        (self.amount, self.effective_amount)
    }

    /// The coarse status: `PAID`, `UNPAID`, `RUNNING`... (`status`).
    pub fn status(&self) -> Option<&OrderStatus> {
        self.status.as_ref()
    }

    /// The detailed status, the vocabulary of `vads_trans_status` (`detailedStatus`); its
    /// [`class`](TransactionStatus::class) is what most handlers branch on.
    pub fn detailed_status(&self) -> Option<&TransactionStatus> {
        self.detailed_status.as_ref()
    }

    /// DEBIT or CREDIT (`operationType`).
    pub fn operation_type(&self) -> Option<&OperationType> {
        self.operation_type.as_ref()
    }

    /// The payment method: `CARD`, ... (`paymentMethodType`).
    pub fn payment_method_type(&self) -> Option<&str> {
        self.payment_method_type.as_deref()
    }

    /// The payment method token, when one was registered or used (`paymentMethodToken`).
    pub fn payment_method_token(&self) -> Option<&str> {
        self.payment_method_token.as_deref()
    }

    /// The error code of a failed transaction (`errorCode`).
    pub fn error_code(&self) -> Option<&str> {
        self.error_code.as_deref()
    }

    /// The acquirer's detailed error code (`detailedErrorCode`).
    pub fn detailed_error_code(&self) -> Option<&str> {
        self.detailed_error_code.as_deref()
    }

    /// The merchant's metadata as raw JSON text, exactly as received (`metadata`).
    pub fn metadata(&self) -> Option<&str> {
        self.metadata.as_deref()
    }

    /// When the transaction was created (`creationDate`).
    pub fn creation_date(&self) -> Option<OffsetDateTime> {
        self.creation_date
    }

    /// The amount in the currency actually used (`transactionDetails.effectiveAmount` and
    /// `effectiveCurrency`, falling back to `currency`).
    pub fn effective_amount(&self) -> Option<Amount> {
        let currency = self.effective_currency.clone().or_else(|| self.currency.clone())?;
        Some(Amount::Minor { minor: self.effective_amount?, currency })
    }

    /// The installment number of a multiple payment (`transactionDetails.sequenceNumber`).
    pub fn sequence_number(&self) -> Option<u32> {
        self.sequence_number
    }

    /// The transaction this one derives from, for a refund (`transactionDetails.parentTransactionUuid`).
    pub fn parent_transaction_uuid(&self) -> Option<&str> {
        self.parent_transaction_uuid.as_deref()
    }

    /// The card brand: `CB`, `VISA`... (`transactionDetails.cardDetails.effectiveBrand`).
    pub fn card_brand(&self) -> Option<&str> {
        self.card_brand.as_deref()
    }

    /// The masked card number (`transactionDetails.cardDetails.pan`).
    pub fn card_number(&self) -> Option<&str> {
        self.card_pan.as_deref()
    }

    /// The 6-character transaction number of the form API, unique per shop and UTC day
    /// (`transactionDetails.cardDetails.legacyTransId`).
    pub fn legacy_trans_id(&self) -> Option<&str> {
        self.legacy_trans_id.as_deref()
    }

    /// Whether the merchant validates the transaction by hand
    /// (`transactionDetails.cardDetails.manualValidation`, `YES` or `NO`).
    pub fn manual_validation(&self) -> Option<bool> {
        self.manual_validation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(answer: &str) -> Result<Payment, Error> {
        Payment::typed(answer, "1", Mode::Test)
    }

    #[test]
    fn reads_the_documented_members() {
        let p = payment(
            r#"{"orderCycle":"CLOSED","orderStatus":"PAID","serverDate":"2018-12-11T19:09:32+00:00",
            "orderDetails":{"orderTotalAmount":990,"orderCurrency":"EUR","mode":"TEST","orderId":"o-1"},
            "customer":{"email":"a@b.c","reference":42,"billingDetails":{"x":null}},
            "transactions":[{"uuid":"u1","amount":990,"currency":"EUR","status":"PAID",
              "detailedStatus":"CAPTURED","operationType":"DEBIT","paymentMethodType":"CARD",
              "paymentMethodToken":null,"errorCode":null,"metadata":{"k":[1,"v"]},
              "creationDate":"2018-12-11T19:09:32Z",
              "transactionDetails":{"effectiveAmount":118138,"effectiveCurrency":"XPF","sequenceNumber":2,
                "parentTransactionUuid":"u0","cardDetails":{"effectiveBrand":"CB","pan":"497010XXXXXX0055",
                "legacyTransId":"908967","manualValidation":"YES"}}}]}"#,
        )
        .unwrap();
        assert_eq!(p.order_cycle(), Some(&OrderCycle::Closed));
        assert_eq!(p.order_status(), Some(&OrderStatus::Paid));
        assert_eq!(p.server_date().unwrap().unix_timestamp(), 1_544_555_372);
        assert_eq!(p.order_details().order_id(), Some("o-1"));
        assert_eq!(p.order_details().total_amount().unwrap().to_string(), "9.90 EUR");
        assert_eq!(p.customer().email(), Some("a@b.c"));
        assert_eq!(p.customer().reference(), Some("42"));
        let t = &p.transactions()[0];
        assert_eq!(t.uuid(), Some("u1"));
        assert_eq!(t.amount().unwrap().to_string(), "9.90 EUR");
        assert_eq!(t.status(), Some(&OrderStatus::Paid));
        assert_eq!(t.detailed_status(), Some(&TransactionStatus::Captured));
        assert_eq!(t.operation_type(), Some(&OperationType::Debit));
        assert_eq!(t.payment_method_type(), Some("CARD"));
        assert_eq!(t.payment_method_token(), None);
        assert_eq!(t.error_code(), None);
        assert_eq!(t.metadata(), Some(r#"{"k":[1,"v"]}"#));
        assert_eq!(t.creation_date(), p.server_date());
        assert_eq!(t.effective_amount().unwrap().to_string(), "118138 XPF");
        assert_eq!(t.sequence_number(), Some(2));
        assert_eq!(t.parent_transaction_uuid(), Some("u0"));
        assert_eq!(t.card_brand(), Some("CB"));
        assert_eq!(t.card_number(), Some("497010XXXXXX0055"));
        assert_eq!(t.legacy_trans_id(), Some("908967"));
        assert_eq!(t.manual_validation(), Some(true));
    }

    #[test]
    fn absent_and_null_members_are_none() {
        let p = payment(r#"{"orderStatus":null,"transactions":[{}],"customer":null}"#).unwrap();
        assert_eq!(p.order_status(), None);
        assert_eq!(p.order_cycle(), None);
        assert_eq!(p.customer().email(), None);
        assert_eq!(p.order_details().total_amount(), None);
        let t = &p.transactions()[0];
        assert_eq!((t.uuid(), t.amount(), t.effective_amount(), t.card_brand()), (None, None, None, None));
        assert!(payment("{}").unwrap().transactions().is_empty());
    }

    #[test]
    fn unknown_values_are_kept() {
        let p = payment(
            r#"{"orderCycle":"HALF_OPEN","orderStatus":"REFUNDED",
            "transactions":[{"detailedStatus":"NEW_STATUS","operationType":"VERIFICATION","currency":"ZZZ","amount":5}]}"#,
        )
        .unwrap();
        assert_eq!(p.order_cycle(), Some(&OrderCycle::Unknown("HALF_OPEN".into())));
        assert_eq!(p.order_status(), Some(&OrderStatus::Unknown("REFUNDED".into())));
        let t = &p.transactions()[0];
        assert_eq!(t.detailed_status(), Some(&TransactionStatus::Unknown("NEW_STATUS".into())));
        assert_eq!(t.operation_type(), Some(&OperationType::Unknown("VERIFICATION".into())));
        assert_eq!(t.amount().unwrap().to_string(), "5 (minor units) ZZZ");
    }

    #[test]
    fn wrong_types_are_malformed_not_panics() {
        for answer in [
            r#"{"orderStatus":1}"#,
            r#"{"serverDate":"yesterday"}"#,
            r#"{"transactions":{}}"#,
            r#"{"transactions":[1]}"#,
            r#"{"transactions":[{"amount":9.9}]}"#,
            r#"{"transactions":[{"amount":99999999999999999999}]}"#,
            r#"{"transactions":[{"transactionDetails":[]}]}"#,
            r#"{"transactions":[{"transactionDetails":{"sequenceNumber":-1}}]}"#,
            r#"{"transactions":[{"transactionDetails":{"cardDetails":{"pan":5}}}]}"#,
            r#"{"customer":"me"}"#,
            r#"{"orderDetails":{"orderTotalAmount":"12"}}"#,
        ] {
            assert!(matches!(payment(answer), Err(Error::Malformed { scheme: Scheme::Rest, .. })), "{answer}");
        }
    }
}
