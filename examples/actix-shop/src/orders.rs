//! What a notification does to an order: the facts read from the verified notification, and
//! one pure decision by its nature and status (paid, pending, refused, cancelled, refunded,
//! validated, token stored, subscription installment), with the amount checked against the
//! order's.

use ipn_core::form::{BackOfficeOperation, Nature};
use ipn_core::{Currency, Notification, OperationType, Reply, StatusClass, TransactionStatus};

use crate::db::{NewNotification, Order, OrderUpdate};

/// A product of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Product {
    /// Its id in URLs.
    pub id: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The price in minor units of [`CURRENCY`].
    pub price_minor: i64,
}

/// The shop's currency (ISO 4217 alphabetic).
pub const CURRENCY: &str = "EUR";

/// The catalog.
pub const CATALOG: [Product; 3] = [
    Product { id: "cup", name: "Espresso cup", price_minor: 1250 },
    Product { id: "beans", name: "Coffee beans, 1 kg", price_minor: 2490 },
    Product { id: "grinder", name: "Hand grinder", price_minor: 4525 },
];

/// A product by id.
pub fn product(id: &str) -> Option<&'static Product> {
    CATALOG.iter().find(|p| p.id == id)
}

/// An amount in minor units for people: `45.25 EUR`.
pub fn format_minor(minor: i64, currency: &str) -> String {
    match Currency::from_alpha(currency).exponent() {
        Some(exponent) => format!("{} {currency}", ipn_core::Decimal::new(minor, u32::from(exponent))),
        None => format!("{minor} (minor units) {currency}"),
    }
}

/// The reply for an amount that differs from the order's: processed (recorded, order flagged),
/// so the gateway stops; retrying would not change the amount.
pub const AMOUNT_MISMATCH: &str = "Total paid is different from order amount.";
/// The reply for a notification naming no known order: recorded, nothing to update.
pub const ORDER_NOT_FOUND: &str = "Order not found.";

/// What the shop reads from a verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `form`, `rest`, `link`.
    pub scheme: String,
    /// The raw source, `-` when absent.
    pub source: String,
    /// Why it was sent.
    pub nature: Nature,
    /// The merchant's order reference.
    pub order_id: Option<String>,
    /// The gateway's status as received.
    pub status: Option<String>,
    /// The coarse meaning of the status.
    pub class: StatusClass,
    /// A refund (`CREDIT`).
    pub credit: bool,
    /// Accepted but waiting for the merchant's validation.
    pub to_validate: bool,
    /// The amount in minor units and its currency code, when it converts exactly.
    pub amount: Option<(i64, String)>,
    /// The amount for people, as received.
    pub amount_text: Option<String>,
    /// The gateway's transaction reference.
    pub transaction_id: Option<String>,
    /// A payment token the gateway created or updated.
    pub token: Option<String>,
}

impl Facts {
    /// Reads the facts from a verified notification.
    pub fn from_notification(n: &Notification) -> Self {
        let source = match n {
            Notification::Form(f) => f.source().map(|s| s.as_str().to_owned()),
            // Not signed: shown in the history only, never decided on.
            Notification::Rest(r) => r.unsigned_src().map(|s| s.as_str().to_owned()),
            _ => None,
        };
        let status = n.status().map(str::to_owned);
        let operation = match n {
            Notification::Form(f) => f.operation_type().cloned(),
            Notification::Rest(r) => r.payment().transactions().first().and_then(|t| t.operation_type()).cloned(),
            _ => None,
        };
        let token = match n {
            Notification::Form(f) => f
                .token()
                .filter(|_| f.token_status().is_none_or(|s| matches!(s, "CREATED" | "UPDATED")))
                .map(str::to_owned),
            Notification::Rest(r) => {
                r.payment().transactions().first().and_then(|t| t.payment_method_token()).map(str::to_owned)
            }
            _ => None,
        };
        let amount = n.amount();
        Self {
            scheme: n.scheme().to_string(),
            source: source.unwrap_or_else(|| "-".to_owned()),
            nature: n.nature(),
            order_id: n.order_id().map(str::to_owned),
            to_validate: status.as_deref().is_some_and(|s| TransactionStatus::parse(s).is_to_validate()),
            status,
            class: n.status_class(),
            credit: operation == Some(OperationType::Credit),
            amount: amount.as_ref().and_then(|a| Some((a.to_minor()?, a.currency().code().to_owned()))),
            amount_text: amount.map(|a| a.to_string()),
            transaction_id: n.transaction_id().map(str::to_owned),
            token,
        }
    }

    /// The history row for these facts, with what the shop did and answered.
    pub fn record(&self, route: &str, effect: impl Into<String>, reply: &Reply) -> NewNotification {
        NewNotification {
            order_id: self.order_id.clone(),
            route: route.to_owned(),
            scheme: self.scheme.clone(),
            source: self.source.clone(),
            nature: self.nature.label().to_owned(),
            status: self.status.clone(),
            transaction_id: self.transaction_id.clone(),
            amount: self.amount_text.clone(),
            effect: effect.into(),
            reply_status: reply.status(),
            reply: reply.body().to_owned(),
        }
    }
}

/// The decision for one notification: the order's changes, what to write in the history, and
/// the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The changes to the order.
    pub update: OrderUpdate,
    /// What the shop did, for people.
    pub effect: String,
    /// The reply to send.
    pub reply: Reply,
}

fn set(status: &str, effect: impl Into<String>) -> Decision {
    Decision {
        update: OrderUpdate { status: Some(status.to_owned()), ..OrderUpdate::default() },
        effect: effect.into(),
        reply: Reply::order_updated(),
    }
}

fn keep(effect: impl Into<String>) -> Decision {
    Decision { update: OrderUpdate::default(), effect: effect.into(), reply: Reply::order_updated() }
}

fn flag(flag: String) -> Decision {
    Decision {
        update: OrderUpdate { flag: Some(flag.clone()), ..OrderUpdate::default() },
        effect: format!("flagged: {flag}"),
        reply: Reply::order_updated(),
    }
}

/// Decides what a notification does to its order.
pub fn decide(order: Option<&Order>, facts: &Facts) -> Decision {
    let Some(order) = order else {
        return Decision {
            update: OrderUpdate::default(),
            effect: "no such order: recorded only".to_owned(),
            reply: Reply::new(200, ORDER_NOT_FOUND),
        };
    };
    // A token registration (REGISTER) carries no payment status: nothing else to decide.
    if let (Some(token), None) = (&facts.token, &facts.status) {
        let mut decision = keep("token registered");
        decision.update.token = Some(token.clone());
        return decision;
    }
    let mut decision = decide_status(order, facts);
    if let Some(token) = &facts.token
        && facts.class != StatusClass::Failed
    {
        decision.update.token = Some(token.clone());
        decision.effect.push_str("; token stored");
    }
    decision
}

fn amount_matches(order: &Order, facts: &Facts) -> Result<(), String> {
    match &facts.amount {
        Some((minor, currency)) if *minor == order.amount_minor && *currency == order.currency => Ok(()),
        _ => Err(format!(
            "amount mismatch: received {}, order is {}",
            facts.amount_text.as_deref().unwrap_or("no amount"),
            format_minor(order.amount_minor, &order.currency)
        )),
    }
}

fn mismatch(reason: String) -> Decision {
    Decision { reply: Reply::new(200, AMOUNT_MISMATCH), ..flag(reason) }
}

fn decide_status(order: &Order, facts: &Facts) -> Decision {
    let status = order.status.as_str();
    let paid = matches!(status, "paid" | "partially_refunded");
    if facts.credit {
        let Some((minor, currency)) = facts.amount.clone().filter(|(_, c)| *c == order.currency) else {
            return flag(format!(
                "refund without a usable amount ({})",
                facts.amount_text.as_deref().unwrap_or("none")
            ));
        };
        if !paid {
            return flag(format!("refund of {} on an order {status}", format_minor(minor, &currency)));
        }
        let remaining = order.amount_minor - order.refunded_minor;
        if minor > remaining {
            return flag(format!(
                "refund of {} exceeds the {} left to refund",
                format_minor(minor, &currency),
                format_minor(remaining, &currency)
            ));
        }
        let new_status = if minor == remaining { "refunded" } else { "partially_refunded" };
        let mut decision = set(new_status, format!("refunded {}", format_minor(minor, &currency)));
        decision.update.refunded_minor = minor;
        return decision;
    }
    if facts.nature == Nature::Recurring {
        return match facts.class {
            StatusClass::Accepted => match amount_matches(order, facts) {
                Ok(()) => {
                    let mut decision = keep(format!("installment {} paid", order.installments + 1));
                    decision.update.installments = 1;
                    if status == "pending" {
                        decision.update.status = Some("paid".to_owned());
                    }
                    decision
                }
                Err(reason) => mismatch(reason),
            },
            StatusClass::Failed | StatusClass::Cancelled => flag(format!(
                "installment {} not paid ({})",
                order.installments + 1,
                facts.status.as_deref().unwrap_or("?")
            )),
            _ => keep("installment pending"),
        };
    }
    // AUTHORISED_TO_VALIDATE is in the pending class: accepted by the bank, not yet captured.
    if facts.to_validate {
        if let Err(reason) = amount_matches(order, facts) {
            return mismatch(reason);
        }
        return match status {
            "pending" | "awaiting_validation" => set("awaiting_validation", "accepted, awaiting validation"),
            _ => keep(format!("no change: order is {status}")),
        };
    }
    match facts.class {
        StatusClass::Accepted => {
            if let Err(reason) = amount_matches(order, facts) {
                return mismatch(reason);
            }
            match status {
                "pending" | "refused" => set("paid", "paid"),
                "awaiting_validation" => {
                    let validated = facts.nature == Nature::BackOffice(BackOfficeOperation::Validation);
                    set("paid", if validated { "validated: paid" } else { "paid" })
                }
                "paid" | "partially_refunded" => keep("no change: already paid"),
                _ => keep(format!("no change: order is {status}")),
            }
        }
        StatusClass::Pending => match status {
            "pending" | "awaiting_validation" => keep("still pending"),
            _ => keep(format!("no change: order is {status}")),
        },
        StatusClass::Cancelled => match status {
            "pending" | "awaiting_validation" | "paid" | "refused" => set("cancelled", "cancelled"),
            _ => keep(format!("no change: order is {status}")),
        },
        StatusClass::Failed => match status {
            "pending" | "awaiting_validation" => set("refused", "refused"),
            _ => keep(format!("no change: order is {status}")),
        },
        StatusClass::Unknown => flag(format!("unknown status {}", facts.status.as_deref().unwrap_or("(none)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: &str) -> Order {
        Order {
            order_id: "O1".into(),
            product: "cup".into(),
            amount_minor: 1250,
            currency: "EUR".into(),
            status: status.into(),
            flag: None,
            token: None,
            installments: 0,
            refunded_minor: 0,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn facts(class: StatusClass, amount: i64) -> Facts {
        Facts {
            scheme: "form".into(),
            source: "PAY".into(),
            nature: Nature::Payment,
            order_id: Some("O1".into()),
            status: Some("AUTHORISED".into()),
            class,
            credit: false,
            to_validate: false,
            amount: Some((amount, "EUR".into())),
            amount_text: Some(format_minor(amount, "EUR")),
            transaction_id: None,
            token: None,
        }
    }

    #[test]
    fn an_accepted_payment_of_the_right_amount_pays_the_order() {
        let d = decide(Some(&order("pending")), &facts(StatusClass::Accepted, 1250));
        assert_eq!(d.update.status.as_deref(), Some("paid"));
        assert_eq!(d.reply, Reply::order_updated());
    }

    #[test]
    fn a_different_amount_flags_the_order_and_does_not_pay_it() {
        let d = decide(Some(&order("pending")), &facts(StatusClass::Accepted, 100));
        assert_eq!(d.update.status, None);
        assert_eq!(d.update.flag.as_deref(), Some("amount mismatch: received 1.00 EUR, order is 12.50 EUR"));
        assert_eq!(d.reply.body(), AMOUNT_MISMATCH);
        let mut other_currency = facts(StatusClass::Accepted, 1250);
        other_currency.amount = Some((1250, "USD".into()));
        assert!(decide(Some(&order("pending")), &other_currency).update.flag.is_some());
    }

    #[test]
    fn refunds_partial_then_full() {
        let mut refund = facts(StatusClass::Accepted, 250);
        refund.credit = true;
        let d = decide(Some(&order("paid")), &refund);
        assert_eq!((d.update.status.as_deref(), d.update.refunded_minor), (Some("partially_refunded"), 250));
        let mut partly = order("partially_refunded");
        partly.refunded_minor = 250;
        refund.amount = Some((1000, "EUR".into()));
        assert_eq!(decide(Some(&partly), &refund).update.status.as_deref(), Some("refunded"));
        refund.amount = Some((1001, "EUR".into()));
        assert!(decide(Some(&partly), &refund).update.flag.is_some());
        assert!(decide(Some(&order("pending")), &refund).update.flag.is_some(), "nothing was paid");
    }

    #[test]
    fn refusal_cancellation_validation_installment_token() {
        assert_eq!(
            decide(Some(&order("pending")), &facts(StatusClass::Failed, 1250)).update.status.as_deref(),
            Some("refused")
        );
        assert_eq!(decide(Some(&order("paid")), &facts(StatusClass::Failed, 1250)).update.status, None);
        assert_eq!(
            decide(Some(&order("paid")), &facts(StatusClass::Cancelled, 1250)).update.status.as_deref(),
            Some("cancelled")
        );
        let mut to_validate = facts(StatusClass::Pending, 1250);
        to_validate.status = Some("AUTHORISED_TO_VALIDATE".into());
        to_validate.to_validate = true;
        assert_eq!(decide(Some(&order("pending")), &to_validate).update.status.as_deref(), Some("awaiting_validation"));
        let mut validation = facts(StatusClass::Accepted, 1250);
        validation.nature = Nature::BackOffice(BackOfficeOperation::Validation);
        let d = decide(Some(&order("awaiting_validation")), &validation);
        assert_eq!((d.update.status.as_deref(), d.effect.as_str()), (Some("paid"), "validated: paid"));
        let mut installment = facts(StatusClass::Accepted, 1250);
        installment.nature = Nature::Recurring;
        let d = decide(Some(&order("paid")), &installment);
        assert_eq!((d.update.installments, d.effect.as_str()), (1, "installment 1 paid"));
        let mut token = facts(StatusClass::Accepted, 1250);
        token.token = Some("tok123".into());
        let d = decide(Some(&order("pending")), &token);
        assert_eq!((d.update.token.as_deref(), d.effect.as_str()), (Some("tok123"), "paid; token stored"));
        token.status = None;
        token.class = StatusClass::Unknown;
        let d = decide(Some(&order("paid")), &token);
        assert_eq!(
            (d.update.token.as_deref(), d.update.flag, d.effect.as_str()),
            (Some("tok123"), None, "token registered")
        );
    }

    #[test]
    fn an_unknown_order_is_recorded_and_acknowledged() {
        let d = decide(None, &facts(StatusClass::Accepted, 1250));
        assert_eq!((d.reply.status(), d.reply.body()), (200, ORDER_NOT_FOUND));
        assert_eq!(d.update, OrderUpdate::default());
    }

    #[test]
    fn amounts_for_people() {
        assert_eq!(format_minor(4525, "EUR"), "45.25 EUR");
        assert_eq!(format_minor(1000, "XPF"), "1000 XPF");
    }
}
