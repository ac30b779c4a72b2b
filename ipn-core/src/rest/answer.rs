//! The `kr-answer` read in one pass before the check: the document is validated, and the members
//! the payment reads are kept raw, by level; everything else is skipped. Nothing is typed here
//! but the lookup hints, so a malformed member is reported after the check, by the typing.

use crate::json::{self, Items, Members, Nested, RawMember, Reader};
use crate::json_index::SyntaxError;

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
    /// `_type`: what the answer is (`V4/Payment`), signed with the rest.
    pub(super) answer_type: RawMember<'a>,
}

impl<'a> Answer<'a> {
    /// Reads the answer.
    ///
    /// # Errors
    ///
    /// The answer is not JSON, or not an object.
    pub(super) fn read(text: &'a str) -> Result<Self, SyntaxError> {
        json::read(text)
    }
}

impl<'a> Members<'a> for Answer<'a> {
    fn member(&mut self, key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError> {
        match key {
            "shopId" => self.shop_id = reader.value()?,
            "orderCycle" => self.order_cycle = reader.value()?,
            "orderStatus" => self.order_status = reader.value()?,
            "serverDate" => self.server_date = reader.value()?,
            "orderDetails" => self.order_details = reader.value()?,
            "customer" => self.customer = reader.value()?,
            "transactions" => self.transactions = reader.value()?,
            "_type" => self.answer_type = reader.value()?,
            _ => json::skip(reader)?,
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
    fn member(&mut self, key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError> {
        match key {
            "mode" => self.mode = reader.value()?,
            "orderId" => self.order_id = reader.value()?,
            "orderTotalAmount" => self.total_amount = reader.value()?,
            "orderCurrency" => self.currency = reader.value()?,
            _ => json::skip(reader)?,
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
    fn member(&mut self, key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError> {
        match key {
            "email" => self.email = reader.value()?,
            "reference" => self.reference = reader.value()?,
            _ => json::skip(reader)?,
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
    fn member(&mut self, key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError> {
        match key {
            "uuid" => self.uuid = reader.value()?,
            "amount" => self.amount = reader.value()?,
            "currency" => self.currency = reader.value()?,
            "status" => self.status = reader.value()?,
            "detailedStatus" => self.detailed_status = reader.value()?,
            "operationType" => self.operation_type = reader.value()?,
            "paymentMethodType" => self.payment_method_type = reader.value()?,
            "paymentMethodToken" => self.payment_method_token = reader.value()?,
            "errorCode" => self.error_code = reader.value()?,
            "detailedErrorCode" => self.detailed_error_code = reader.value()?,
            "metadata" => self.metadata = reader.value()?,
            "creationDate" => self.creation_date = reader.value()?,
            "transactionDetails" => self.details = reader.value()?,
            _ => json::skip(reader)?,
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
    fn member(&mut self, key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError> {
        match key {
            "effectiveAmount" => self.effective_amount = reader.value()?,
            "effectiveCurrency" => self.effective_currency = reader.value()?,
            "sequenceNumber" => self.sequence_number = reader.value()?,
            "parentTransactionUuid" => self.parent_transaction_uuid = reader.value()?,
            "cardDetails" => self.card = reader.value()?,
            _ => json::skip(reader)?,
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
    fn member(&mut self, key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError> {
        match key {
            "effectiveBrand" => self.effective_brand = reader.value()?,
            "pan" => self.pan = reader.value()?,
            "legacyTransId" => self.legacy_trans_id = reader.value()?,
            "manualValidation" => self.manual_validation = reader.value()?,
            _ => json::skip(reader)?,
        }
        Ok(())
    }
}
