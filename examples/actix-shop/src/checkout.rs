//! Handing the buyer to the gateway: the signed hosted payment form (`vads_*` request fields
//! and `signature`, PROTOCOLS 1.1) and the CentralBill payment link (PROTOCOLS 3.3), both signed
//! with ipn-core.

use ipn_core::testkit::payment_link_signature;
use ipn_core::{Currency, FormAlgorithm, Mode, form};

use crate::db::Order;

/// The shop's identity at the gateways and the keys it signs requests with.
#[derive(Clone)]
pub struct Merchant {
    /// The Lyra-family shop id (`vads_site_id`).
    pub shop_id: String,
    /// TEST or PRODUCTION (`vads_ctx_mode`).
    pub mode: Mode,
    /// The form key of that mode.
    pub form_key: ipn_core::Secret,
    /// The shop's form algorithm.
    pub algorithm: FormAlgorithm,
    /// The CentralBill application id and its secret, when one is configured.
    pub application: Option<(String, ipn_core::Secret)>,
    /// Where the hosted payment form is posted (`.../vads-payment/`).
    pub payment_page_url: String,
    /// Where CentralBill payment links point (`.../link`).
    pub payment_link_url: String,
    /// The shop's own public base URL (for `vads_url_return`).
    pub public_url: String,
}

impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchant")
            .field("shop_id", &self.shop_id)
            .field("mode", &self.mode)
            .field("application", &self.application.as_ref().map(|(id, _)| id))
            .field("payment_page_url", &self.payment_page_url)
            .field("payment_link_url", &self.payment_link_url)
            .finish_non_exhaustive()
    }
}

/// A transaction id (`vads_trans_id`): 6 digits, which the gateway wants unique per shop and
/// UTC day; random, as the plugins do.
fn trans_id() -> String {
    let mut bytes = [0_u8; 4];
    // A failing system RNG leaves zeros: the gateway would refuse a duplicate, nothing worse.
    let _ = getrandom::fill(&mut bytes);
    format!("{:06}", u32::from_le_bytes(bytes) % 900_000)
}

impl Merchant {
    /// The `vads_*` fields of the hosted payment form for an order, and its `signature` last.
    /// `extra` adds request fields (`vads_validation_mode`...) before signing.
    pub fn payment_form(&self, order: &Order, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let currency = Currency::from_alpha(&order.currency).numeric().map_or_else(String::new, |n| format!("{n:03}"));
        let date = time::OffsetDateTime::now_utc();
        let trans_date = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            date.year(),
            u8::from(date.month()),
            date.day(),
            date.hour(),
            date.minute(),
            date.second()
        );
        let mut fields: Vec<(String, String)> = [
            ("vads_action_mode", "INTERACTIVE".to_owned()),
            ("vads_amount", order.amount_minor.to_string()),
            ("vads_ctx_mode", self.mode.as_str().to_owned()),
            ("vads_currency", currency),
            ("vads_order_id", order.order_id.clone()),
            ("vads_page_action", "PAYMENT".to_owned()),
            ("vads_payment_config", "SINGLE".to_owned()),
            ("vads_site_id", self.shop_id.clone()),
            ("vads_trans_date", trans_date),
            ("vads_trans_id", trans_id()),
            ("vads_url_return", format!("{}/orders/{}", self.public_url, order.order_id)),
            ("vads_version", "V2".to_owned()),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
        fields.extend(extra.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
        let signature =
            form::sign(fields.iter().map(|(n, v)| (n.as_str(), v.as_str())), self.form_key.expose(), self.algorithm);
        fields.push(("signature".to_owned(), signature));
        fields
    }

    /// The CentralBill payment link's query parameters for an order (amount in major units),
    /// `signature` last; `None` without a configured application.
    pub fn payment_link_params(&self, order: &Order, customer_id: &str) -> Option<Vec<(String, String)>> {
        let (application_id, secret) = self.application.as_ref()?;
        let amount = match Currency::from_alpha(&order.currency).exponent() {
            Some(exponent) => ipn_core::Decimal::new(order.amount_minor, u32::from(exponent)).to_string(),
            None => order.amount_minor.to_string(),
        };
        let signature = payment_link_signature(
            application_id,
            &order.order_id,
            customer_id,
            &amount,
            &order.currency,
            secret.expose(),
        );
        Some(vec![
            ("applicationId".to_owned(), application_id.clone()),
            ("invoiceId".to_owned(), order.order_id.clone()),
            ("customerId".to_owned(), customer_id.to_owned()),
            ("amount".to_owned(), amount),
            ("currency".to_owned(), order.currency.clone()),
            ("signature".to_owned(), signature),
        ])
    }

    /// The CentralBill payment link for an order.
    pub fn payment_link(&self, order: &Order, customer_id: &str) -> Option<String> {
        let params = self.payment_link_params(order, customer_id)?;
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        Some(format!("{}?{query}", self.payment_link_url))
    }
}
