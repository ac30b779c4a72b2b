//! The `kr-answer` read in one pass before the check: the document is validated, and the members
//! the payment reads are kept raw, by level; everything else is skipped. Nothing is typed here
//! but the lookup hints, so a malformed member is reported after the check, by the typing.

use crate::json::{Items, Nested, Raw, json_object};

json_object! {
    /// The answer's members that [`Payment`](super::Payment) reads.
    pub(super) struct Answer<'a> {
        "shopId" => shop_id: Raw<'a>,
        "orderCycle" => order_cycle: Raw<'a>,
        "orderStatus" => order_status: Raw<'a>,
        "serverDate" => server_date: Raw<'a>,
        "orderDetails" => order_details: Nested<OrderDetails<'a>>,
        "customer" => customer: Nested<Customer<'a>>,
        "transactions" => transactions: Items<Transaction<'a>>,
        /// `_type`: what the answer is (`V4/Payment`), signed with the rest.
        "_type" => answer_type: Raw<'a>,
    }
}

impl<'a> Answer<'a> {
    /// Reads the answer.
    ///
    /// # Errors
    ///
    /// The answer is not JSON, or not an object.
    pub(super) fn read(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

json_object! {
    /// `orderDetails`.
    pub(super) struct OrderDetails<'a> {
        "mode" => mode: Raw<'a>,
        "orderId" => order_id: Raw<'a>,
        "orderTotalAmount" => total_amount: Raw<'a>,
        "orderCurrency" => currency: Raw<'a>,
    }
}

json_object! {
    /// `customer`.
    pub(super) struct Customer<'a> {
        "email" => email: Raw<'a>,
        "reference" => reference: Raw<'a>,
    }
}

json_object! {
    /// `transactions[]`.
    pub(super) struct Transaction<'a> {
        "uuid" => uuid: Raw<'a>,
        "amount" => amount: Raw<'a>,
        "currency" => currency: Raw<'a>,
        "status" => status: Raw<'a>,
        "detailedStatus" => detailed_status: Raw<'a>,
        "operationType" => operation_type: Raw<'a>,
        "paymentMethodType" => payment_method_type: Raw<'a>,
        "paymentMethodToken" => payment_method_token: Raw<'a>,
        "errorCode" => error_code: Raw<'a>,
        "detailedErrorCode" => detailed_error_code: Raw<'a>,
        "metadata" => metadata: Raw<'a>,
        "creationDate" => creation_date: Raw<'a>,
        "transactionDetails" => details: Nested<TransactionDetails<'a>>,
    }
}

json_object! {
    /// `transactions[].transactionDetails`.
    pub(super) struct TransactionDetails<'a> {
        "effectiveAmount" => effective_amount: Raw<'a>,
        "effectiveCurrency" => effective_currency: Raw<'a>,
        "sequenceNumber" => sequence_number: Raw<'a>,
        "parentTransactionUuid" => parent_transaction_uuid: Raw<'a>,
        "cardDetails" => card: Nested<CardDetails<'a>>,
    }
}

json_object! {
    /// `transactions[].transactionDetails.cardDetails`.
    pub(super) struct CardDetails<'a> {
        "effectiveBrand" => effective_brand: Raw<'a>,
        "pan" => pan: Raw<'a>,
        "legacyTransId" => legacy_trans_id: Raw<'a>,
        "manualValidation" => manual_validation: Raw<'a>,
    }
}
