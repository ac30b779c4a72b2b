//! `ipn verify`: the verdict of the core on a captured request, as JSON.

use ipn_core::adapter::Rejected;
use ipn_core::{Amount, Notification, Receiver};
use serde_json::{Map, Value, json};

/// The JSON of an amount: `{"minor": 4525, "currency": "EUR"}` or
/// `{"value": "150.75", "currency": "XOF"}`.
pub fn amount_json(amount: &Amount) -> Value {
    match amount {
        Amount::Minor { minor, currency } => json!({"minor": minor, "currency": currency.code()}),
        Amount::Decimal { value, currency } => json!({"value": value.to_string(), "currency": currency.code()}),
    }
}

/// What triggered the notification, as signed: `vads_url_check_src`, CentralBill's
/// `result.origin`. A REST answer does not say (its `kr-src` is not signed: see `unsigned_src`).
fn source(notification: &Notification) -> Option<String> {
    match notification {
        Notification::Form(n) => n.source().map(|s| s.as_str().to_owned()),
        Notification::Link(n) => n.result().origin.clone(),
        _ => None,
    }
}

/// The received fields: every `vads_*` field (form), the parsed `kr-answer` (REST), the JSON body
/// (link).
fn fields(notification: &Notification) -> Value {
    match notification {
        Notification::Form(n) => {
            let map: Map<String, Value> =
                n.fields().with_prefix("vads_").map(|(k, v)| (k.to_owned(), Value::String(v.to_owned()))).collect();
            Value::Object(map)
        }
        Notification::Rest(n) => serde_json::from_str(n.answer()).unwrap_or(Value::Null),
        Notification::Link(n) => serde_json::from_str(n.body()).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// The success document.
pub fn accepted(notification: &Notification) -> Value {
    let mut doc = json!({
        "valid": true,
        "scheme": notification.scheme().as_str(),
        "notification": {
            "order_id": notification.order_id(),
            "transaction_id": notification.transaction_id(),
            "amount": notification.amount().as_ref().map(amount_json),
            "status": notification.status(),
            "status_class": notification.status_class().as_str(),
            "mode": notification.mode().map(|m| m.as_str()),
            "source": source(notification),
            "nature": notification.nature().label(),
            "fingerprint": notification.fingerprint().to_string(),
        },
        "fields": fields(notification),
    });
    if let Notification::Rest(n) = notification {
        // Shown apart, under its name: `kr-hash` does not cover `kr-src`.
        doc["notification"]["unsigned_src"] = json!(n.unsigned_src().map(|s| s.as_str()));
    }
    doc
}

/// The rejection document.
pub fn rejected(rejected: &Rejected) -> Value {
    json!({
        "valid": false,
        "error": rejected.error.to_string(),
        "reply": {"status": rejected.reply.status(), "body": rejected.reply.body()},
    })
}

/// Verifies and renders: `(valid, document)`.
pub async fn verify(receiver: &Receiver, request: &ipn_core::testkit::RawRequest) -> (bool, Value) {
    match receiver.receive(request.view()).await {
        Ok(notification) => (true, accepted(&notification)),
        Err(rejection) => (false, rejected(&rejection)),
    }
}
