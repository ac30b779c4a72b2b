//! Wraps the IPN route of an existing axum app with `IpnLayer`; every other route is untouched.
//!
//! Run it with `cargo run -p ipn-tower --example wrap_existing_router`, then post a
//! notification (the keys are the public test keys of the conformance vectors):
//!
//! ```text
//! curl -i http://127.0.0.1:3000/payments/ipn \
//!      -H 'content-type: application/x-www-form-urlencoded' \
//!      --data-binary @notification.txt
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use ipn_core::{FormAlgorithm, Keys, Mode, Notification, ShopKeys, Verifier};
use ipn_tower::{Ipn, IpnError, IpnLayer, IpnReply};

/// The shop's orders: order id -> status.
type Orders = Arc<Mutex<HashMap<String, &'static str>>>;

/// The notification handler: runs only for a verified notification.
async fn payment_notification(
    State(orders): State<Orders>,
    Ipn(notification): Ipn<Notification>,
) -> Result<IpnReply, IpnError> {
    let order_id = notification.order_id().ok_or("notification without an order id")?;
    let status = notification.status_class().as_str();
    let mut orders = orders.lock().map_err(|_| "orders lock poisoned")?;
    if orders.get(order_id) == Some(&status) {
        return Ok(IpnReply::already_processed());
    }
    orders.insert(order_id.to_owned(), status);
    Ok(IpnReply::order_updated())
}

async fn list_orders(State(orders): State<Orders>) -> Result<String, IpnError> {
    let orders = orders.lock().map_err(|_| "orders lock poisoned")?;
    Ok(orders.iter().map(|(id, status)| format!("{id}: {status}\n")).collect())
}

/// The app as it was before notifications: its routes stay as they are.
fn existing_app() -> Router<Orders> {
    Router::new().route("/", get(|| async { "the shop" })).route("/orders", get(list_orders))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let keys = Keys::builder()
        .shop(
            ShopKeys::new("12345678")
                .form_key(Mode::Test, "1122334455667788")
                .form_key(Mode::Production, "8877665544332211")
                .form_algorithm(FormAlgorithm::HmacSha256)
                // For trying the example with TEST notifications (refused unless the shop opts
                // in); a production server leaves this out.
                .accept_test_mode(true),
        )
        .build()
        .map_err(std::io::Error::other)?;
    let layer = IpnLayer::new(Verifier::new(keys).max_body_bytes(64 * 1024));

    // Only the IPN route is wrapped: `route_layer` applies to the routes added before it, and
    // leaves unknown paths (404) and other methods (405) as they are.
    let payments = Router::new().route("/ipn", post(payment_notification)).route_layer(layer);
    let app = existing_app().nest("/payments", payments).with_state(Orders::default());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
