//! An existing actix-web shop (a home page, an orders API) gains a notification URL: only the
//! `/payment/ipn` resource is wrapped with `IpnMiddleware`; the other routes are untouched.
//!
//! ```text
//! cargo run -p ipn-actix --example wrap_existing_app
//! curl -i localhost:3000/orders/ORDER-1042
//! curl -i -X POST localhost:3000/payment/ipn -H 'content-type: application/x-www-form-urlencoded' \
//!      --data 'vads_amount=4525&vads_ctx_mode=TEST&vads_currency=978&vads_hash=0d8b1a8f4ba7b1e6f1e7a4b6c1d9e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7&vads_order_id=ORDER-1042&vads_site_id=12345678&vads_trans_date=20261120101500&vads_trans_status=AUTHORISED&vads_url_check_src=PAY&vads_version=V2&signature=dNXpd7XTJvun3rkCjydZ6FfX%2B%2FWwnJzRUy3Ra5QfLGk%3D'
//! curl -i localhost:3000/orders/ORDER-1042
//! ```
//!
//! The shop id and TEST key default to the documentation's demo values; set `SHOP_ID` and
//! `SHOP_TEST_KEY` to use yours.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::{App, HttpResponse, HttpServer, web};
use ipn_actix::ipn_core::{Keys, Mode, Notification, ShopKeys, StatusClass, Verifier};
use ipn_actix::{Ipn, IpnError, IpnMiddleware, IpnReply};

/// The existing application's state: orders by reference, with their payment status.
#[derive(Debug, Default)]
struct Orders(Mutex<HashMap<String, &'static str>>);

async fn home() -> &'static str {
    "Welcome to the demo shop."
}

async fn order(orders: web::Data<Orders>, id: web::Path<String>) -> Result<HttpResponse, actix_web::Error> {
    let orders = orders.0.lock().map_err(|_| actix_web::error::ErrorInternalServerError("orders unavailable"))?;
    Ok(match orders.get(id.as_str()) {
        Some(status) => HttpResponse::Ok().body(format!("{id}: {status}\n")),
        None => HttpResponse::NotFound().body("no such order\n"),
    })
}

/// The notification handler: only authentic notifications get here.
async fn ipn(Ipn(notification): Ipn<Notification>, orders: web::Data<Orders>) -> Result<IpnReply, IpnError> {
    let order_id = notification.order_id().ok_or("notification without an order reference")?;
    let mut orders = orders.0.lock().map_err(|_| "orders unavailable")?;
    let status = orders.get_mut(order_id).ok_or("unknown order")?;
    let new_status = match notification.status_class() {
        StatusClass::Accepted => "paid",
        StatusClass::Pending => "pending",
        StatusClass::Cancelled | StatusClass::Failed => "payment failed",
        StatusClass::Unknown => return Err("unknown payment status".into()),
    };
    if *status == new_status {
        return Ok(IpnReply::already_processed());
    }
    *status = new_status;
    Ok(IpnReply::order_updated())
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();

    let shop_id = std::env::var("SHOP_ID").unwrap_or_else(|_| "12345678".to_owned());
    let test_key = std::env::var("SHOP_TEST_KEY").unwrap_or_else(|_| "1122334455667788".to_owned());
    // A TEST key, for trying the example: its TEST notifications are refused unless the shop
    // opts in. A production server configures PRODUCTION keys and leaves this out.
    let shop = ShopKeys::new(shop_id).form_key(Mode::Test, test_key).accept_test_mode(true);
    let keys = Keys::builder().shop(shop).build()?;
    let middleware = IpnMiddleware::new(Verifier::new(keys).max_body_bytes(32 * 1024));

    let orders = web::Data::new(Orders::default());
    orders.0.lock().map_err(|_| "orders unavailable")?.insert("ORDER-1042".to_owned(), "awaiting payment");

    println!("listening on http://127.0.0.1:3000 (notification URL: /payment/ipn)");
    HttpServer::new(move || {
        App::new()
            .app_data(orders.clone())
            .route("/", web::get().to(home))
            .route("/orders/{id}", web::get().to(order))
            // The one change to the existing application: the IPN resource is wrapped.
            .service(web::resource("/payment/ipn").wrap(middleware.clone()).route(web::post().to(ipn)))
    })
    .workers(2)
    .bind(("127.0.0.1", 3000))?
    .run()
    .await?;
    Ok(())
}
