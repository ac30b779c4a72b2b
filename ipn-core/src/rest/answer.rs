//! The `kr-answer` read in one pass before the check: the document is validated, and the members
//! the payment reads are kept raw, by level; everything else is skipped. Nothing is typed here
//! but the lookup hints, so a malformed member is reported after the check, by the typing.

use serde::de::MapAccess;

use crate::json::{self, Items, Members, Nested, RawMember};

/// The answer's members that [`Payment`](super::Payment) reads.
#[derive(Debug, Default)]
pub(super) struct Answer<'a> {
    pub(super) shop_id: RawMember<'a>,
    pub(super) order_cycle: RawMember<'a>,
    pub(super) order_status: RawMember<'a>,
    pub(super) server_date: RawMember<'a>,
    pub(super) order_details: Nested<OrderDetails<'a>>,
    pub(super) customer: Nested<Customer<'a>>,
    pub(super) transactions: Items<Transaction<'a>>,
}

impl<'a> Answer<'a> {
    /// Reads the answer.
    ///
    /// # Errors
    ///
    /// The answer is not JSON, or not an object.
    pub(super) fn read(text: &'a str) -> Result<Self, serde_json::Error> {
        json::read(text)
    }
}

impl<'a> Members<'a> for Answer<'a> {
    fn member<M: MapAccess<'a>>(&mut self, key: &str, map: &mut M) -> Result<(), M::Error> {
        match key {
            "shopId" => self.shop_id = map.next_value()?,
            "orderCycle" => self.order_cycle = map.next_value()?,
            "orderStatus" => self.order_status = map.next_value()?,
            "serverDate" => self.server_date = map.next_value()?,
            "orderDetails" => self.order_details = map.next_value()?,
            "customer" => self.customer = map.next_value()?,
            "transactions" => self.transactions = map.next_value()?,
            _ => json::skip(map)?,
        }
        Ok(())
    }
}

/// `orderDetails`.
#[derive(Debug, Default)]
pub(super) struct OrderDetails<'a> {
    pub(super) mode: RawMember<'a>,
    pub(super) order_id: RawMember<'a>,
    pub(super) total_amount: RawMember<'a>,
    pub(super) currency: RawMember<'a>,
}

impl<'a> Members<'a> for OrderDetails<'a> {
    fn member<M: MapAccess<'a>>(&mut self, key: &str, map: &mut M) -> Result<(), M::Error> {
        match key {
            "mode" => self.mode = map.next_value()?,
            "orderId" => self.order_id = map.next_value()?,
            "orderTotalAmount" => self.total_amount = map.next_value()?,
            "orderCurrency" => self.currency = map.next_value()?,
            _ => json::skip(map)?,
        }
        Ok(())
    }
}

/// `customer`.
#[derive(Debug, Default)]
pub(super) struct Customer<'a> {
    pub(super) email: RawMember<'a>,
    pub(super) reference: RawMember<'a>,
}

impl<'a> Members<'a> for Customer<'a> {
    fn member<M: MapAccess<'a>>(&mut self, key: &str, map: &mut M) -> Result<(), M::Error> {
        match key {
            "email" => self.email = map.next_value()?,
            "reference" => self.reference = map.next_value()?,
            _ => json::skip(map)?,
        }
        Ok(())
    }
}

/// `transactions[]`.
#[derive(Debug, Default)]
pub(super) struct Transaction<'a> {
    pub(super) uuid: RawMember<'a>,
    pub(super) amount: RawMember<'a>,
    pub(super) currency: RawMember<'a>,
    pub(super) status: RawMember<'a>,
    pub(super) detailed_status: RawMember<'a>,
    pub(super) operation_type: RawMember<'a>,
    pub(super) payment_method_type: RawMember<'a>,
    pub(super) payment_method_token: RawMember<'a>,
    pub(super) error_code: RawMember<'a>,
    pub(super) detailed_error_code: RawMember<'a>,
    pub(super) metadata: RawMember<'a>,
    pub(super) creation_date: RawMember<'a>,
    pub(super) details: Nested<TransactionDetails<'a>>,
}

impl<'a> Members<'a> for Transaction<'a> {
    fn member<M: MapAccess<'a>>(&mut self, key: &str, map: &mut M) -> Result<(), M::Error> {
        match key {
            "uuid" => self.uuid = map.next_value()?,
            "amount" => self.amount = map.next_value()?,
            "currency" => self.currency = map.next_value()?,
            "status" => self.status = map.next_value()?,
            "detailedStatus" => self.detailed_status = map.next_value()?,
            "operationType" => self.operation_type = map.next_value()?,
            "paymentMethodType" => self.payment_method_type = map.next_value()?,
            "paymentMethodToken" => self.payment_method_token = map.next_value()?,
            "errorCode" => self.error_code = map.next_value()?,
            "detailedErrorCode" => self.detailed_error_code = map.next_value()?,
            "metadata" => self.metadata = map.next_value()?,
            "creationDate" => self.creation_date = map.next_value()?,
            "transactionDetails" => self.details = map.next_value()?,
            _ => json::skip(map)?,
        }
        Ok(())
    }
}

/// `transactions[].transactionDetails`.
#[derive(Debug, Default)]
pub(super) struct TransactionDetails<'a> {
    pub(super) effective_amount: RawMember<'a>,
    pub(super) effective_currency: RawMember<'a>,
    pub(super) sequence_number: RawMember<'a>,
    pub(super) parent_transaction_uuid: RawMember<'a>,
    pub(super) card: Nested<CardDetails<'a>>,
}

impl<'a> Members<'a> for TransactionDetails<'a> {
    fn member<M: MapAccess<'a>>(&mut self, key: &str, map: &mut M) -> Result<(), M::Error> {
        match key {
            "effectiveAmount" => self.effective_amount = map.next_value()?,
            "effectiveCurrency" => self.effective_currency = map.next_value()?,
            "sequenceNumber" => self.sequence_number = map.next_value()?,
            "parentTransactionUuid" => self.parent_transaction_uuid = map.next_value()?,
            "cardDetails" => self.card = map.next_value()?,
            _ => json::skip(map)?,
        }
        Ok(())
    }
}

/// `transactions[].transactionDetails.cardDetails`.
#[derive(Debug, Default)]
pub(super) struct CardDetails<'a> {
    pub(super) effective_brand: RawMember<'a>,
    pub(super) pan: RawMember<'a>,
    pub(super) legacy_trans_id: RawMember<'a>,
    pub(super) manual_validation: RawMember<'a>,
}

impl<'a> Members<'a> for CardDetails<'a> {
    fn member<M: MapAccess<'a>>(&mut self, key: &str, map: &mut M) -> Result<(), M::Error> {
        match key {
            "effectiveBrand" => self.effective_brand = map.next_value()?,
            "pan" => self.pan = map.next_value()?,
            "legacyTransId" => self.legacy_trans_id = map.next_value()?,
            "manualValidation" => self.manual_validation = map.next_value()?,
            _ => json::skip(map)?,
        }
        Ok(())
    }
}
