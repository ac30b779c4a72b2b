//! The gateway simulator driving a tiny axum shop wrapped by `ipn_tower::IpnLayer` through a
//! payment, a refund, a replay and a CentralBill link payment.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use common::CONFIG;
use ipn_cli::Settings;
use ipn_cli::gateway::{Action, Choice, Gateway, GatewayError, PaymentStatus};
use ipn_core::testkit::{FormBuilder, payment_link_signature};
use ipn_core::{FormAlgorithm, Notification, Verifier};
use ipn_tower::{Ipn, IpnError, IpnLayer, IpnReply};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    scheme: String,
    order_id: Option<String>,
    status: Option<String>,
    nature: String,
    amount: Option<String>,
    operation: Option<String>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

#[derive(Clone, Default)]
struct Shop {
    log: Log,
    /// Deliveries to fail (500) before processing one.
    failures: Arc<AtomicU32>,
}

async fn notification(State(shop): State<Shop>, Ipn(n): Ipn<Notification>) -> Result<IpnReply, IpnError> {
    if shop.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1)).is_ok() {
        return Err("the database is down".into());
    }
    shop.log.lock().unwrap().push(Seen {
        scheme: n.scheme().to_string(),
        order_id: n.order_id().map(str::to_owned),
        status: n.status().map(str::to_owned),
        nature: n.nature().label().to_owned(),
        amount: n.amount().map(|a| a.to_string()),
        operation: n.as_form().and_then(|f| f.operation_type()).map(|o| o.to_string()),
    });
    Ok(IpnReply::order_updated())
}

/// The shop: one IPN route wrapped by the layer, verified with the same configuration.
async fn shop(settings: &Settings) -> (String, Log) {
    let (url, shop) = failing_shop(settings, 0).await;
    (url, shop.log)
}

async fn failing_shop(settings: &Settings, failures: u32) -> (String, Shop) {
    let shop = Shop { log: Log::default(), failures: Arc::new(AtomicU32::new(failures)) };
    let layer = IpnLayer::new(Verifier::from_config(settings.config().clone()));
    let app = Router::new().route("/ipn", post(notification)).route_layer(layer).with_state(shop.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ipn", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, shop)
}

async fn serve(gateway: &Gateway) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = gateway.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// The signed hosted-payment form a shop posts to the payment page.
fn payment_form(order_id: &str, amount: &str) -> Vec<(String, String)> {
    FormBuilder::payment_request("12345678", order_id)
        .set("vads_amount", amount)
        .set("vads_url_return", "http://shop.example/return")
        .signed_fields(b"1122334455667788", FormAlgorithm::HmacSha256)
}

fn post_form(url: &str, fields: &[(String, String)]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let mut response = agent.post(url).send_form(pairs).unwrap();
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
}

fn get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut response = agent.get(url).call().unwrap();
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_then_refund_then_replay_reach_the_shop_verified() {
    let settings = Settings::from_toml(CONFIG).unwrap();
    let (notify, log) = shop(&settings).await;
    let gateway = Gateway::new(settings, notify).retries(0);
    let base = serve(&gateway).await;

    // The payment page accepts the shop's signed form and refuses a tampered one.
    let fields = payment_form("ORDER-7", "4525");
    let page_url = format!("{base}/vads-payment/");
    let (status, page) = tokio::task::spawn_blocking(move || post_form(&page_url, &fields)).await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("action=\"/pay/1\"") && page.contains("ORDER-7"), "{page}");
    let mut tampered = payment_form("ORDER-8", "4525");
    tampered[1].1 = "1".to_owned();
    let page_url = format!("{base}/vads-payment/");
    let (status, _) = tokio::task::spawn_blocking(move || post_form(&page_url, &tampered)).await.unwrap();
    assert_eq!(status, 403);

    let delivery = gateway.complete(1, Choice::Accept).await.unwrap();
    assert!(delivery.delivered(), "{delivery:?}");
    assert_eq!(delivery.attempts[0].status, Some(200));
    assert_eq!(delivery.attempts[0].stored, "Order successfully updated.");

    let delivery = gateway.back_office(1, Action::Refund).await.unwrap();
    assert!(delivery.delivered(), "{delivery:?}");
    let delivery = gateway.back_office(1, Action::Replay).await.unwrap();
    assert!(delivery.delivered(), "{delivery:?}");

    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0].scheme, "form");
    assert_eq!(seen[0].order_id.as_deref(), Some("ORDER-7"));
    assert_eq!(seen[0].status.as_deref(), Some("AUTHORISED"));
    assert_eq!(seen[0].nature, "payment");
    assert_eq!(seen[0].amount.as_deref(), Some("45.25 EUR"));
    assert_eq!(seen[1].nature, "back-office refund");
    assert_eq!(seen[1].operation.as_deref(), Some("CREDIT"));
    assert_eq!(seen[1].order_id.as_deref(), Some("ORDER-7"));
    assert_eq!(seen[2].nature, "manual replay");

    let payments = gateway.payments();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].status, PaymentStatus::Refunded);
    assert_eq!(payments[0].deliveries.len(), 3);
    // A refunded payment cannot be refunded again, nor can an unknown one.
    assert!(matches!(gateway.back_office(1, Action::Refund).await, Err(GatewayError::NotAllowed(_))));
    assert!(matches!(gateway.back_office(9, Action::Refund).await, Err(GatewayError::UnknownPayment(9))));

    let (status, page) = tokio::task::spawn_blocking(move || get(&format!("{base}/"))).await.unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("ORDER-7") && page.contains("Refunded") && page.contains("/payments/1/refund"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_choice_and_back_office_buttons_send_notifications() {
    let settings = Settings::from_toml(CONFIG).unwrap();
    let (notify, log) = shop(&settings).await;
    let gateway = Gateway::new(settings, notify).retries(0);
    let base = serve(&gateway).await;
    let fields = payment_form("ORDER-9", "1000");
    let url = base.clone();
    tokio::task::spawn_blocking(move || {
        assert_eq!(post_form(&format!("{url}/vads-payment/"), &fields).0, 200);
        let choice = [("choice".to_owned(), "refuse".to_owned())];
        assert_eq!(post_form(&format!("{url}/pay/1"), &choice).0, 303);
    })
    .await
    .unwrap();
    for _ in 0..100 {
        if !log.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].status.as_deref(), Some("REFUSED"));
    assert_eq!(seen[0].amount.as_deref(), Some("10.00 EUR"));
    assert!(matches!(gateway.back_office(1, Action::Refund).await, Err(GatewayError::NotAllowed(_))));
    let (status, _) =
        tokio::task::spawn_blocking(move || post_form(&format!("{base}/payments/1/explode"), &[])).await.unwrap();
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_centralbill_payment_link_completes_with_a_signed_notification() {
    let settings = Settings::from_toml(CONFIG).unwrap();
    let (notify, log) = shop(&settings).await;
    let gateway = Gateway::new(settings, notify).retries(0);
    let app = "fbab3ccc-719e-11ed-93ad-02420a0003c1";
    let signature = payment_link_signature(app, "INV-5", "CUST-1", "15000", "XOF", b"app!secret");
    let mut query: HashMap<String, String> = [
        ("applicationId", app),
        ("invoiceId", "INV-5"),
        ("customerId", "CUST-1"),
        ("amount", "15000"),
        ("currency", "XOF"),
        ("signature", signature.as_str()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let id = gateway.start_link_payment(&query).unwrap();
    let delivery = gateway.complete(id, Choice::Accept).await.unwrap();
    assert!(delivery.delivered(), "{delivery:?}");
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[0].scheme, "link");
    assert_eq!(seen[0].order_id.as_deref(), Some("INV-5"));
    assert_eq!(seen[0].status.as_deref(), Some("COMPLETED"));
    assert_eq!(seen[0].amount.as_deref(), Some("15000 XOF"));
    assert!(matches!(gateway.back_office(id, Action::Refund).await, Err(GatewayError::NotAllowed(_))));
    assert!(gateway.back_office(id, Action::Replay).await.unwrap().delivered());

    query.insert("amount".to_owned(), "1".to_owned());
    assert_eq!(gateway.start_link_payment(&query), Err(GatewayError::BadSignature));

    let base = serve(&gateway).await;
    let (status, page) = tokio::task::spawn_blocking(move || {
        get(&format!(
            "{base}/link?applicationId={app}&invoiceId=INV-6&customerId=C&amount=10&currency=XOF&signature={}",
            payment_link_signature(app, "INV-6", "C", "10", "XOF", b"app!secret")
        ))
    })
    .await
    .unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("INV-6") && page.contains("Accept the payment"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_notification_is_retried_as_retry_until_the_shop_processes_it() {
    let settings = Settings::from_toml(CONFIG).unwrap();
    let (notify, shop) = failing_shop(&settings, 2).await;
    let gateway = Gateway::new(settings, notify).retries(4).retry_interval(std::time::Duration::from_millis(20));
    let id = gateway.start_form_payment(payment_form("ORDER-11", "500")).unwrap();
    let delivery = gateway.complete(id, Choice::Accept).await.unwrap();
    let statuses: Vec<_> = delivery.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(200)], "{delivery:?}");
    let sources: Vec<_> = delivery.attempts.iter().map(|a| a.source.as_deref()).collect();
    assert_eq!(sources, [Some("PAY"), Some("RETRY"), Some("RETRY")]);
    assert_eq!(delivery.attempts[0].stored, "An error occurred while updating the order.");
    let seen = shop.log.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].nature, "retry", "the processed delivery is the signed RETRY");
}

#[test]
fn the_gateway_command_serves_the_back_office() {
    let dir = common::TempDir::new("gateway-cmd");
    let config = dir.write("ipn.toml", CONFIG);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ipn"))
        .args(["gateway", "--config", config.to_str().unwrap(), "--notify", "http://127.0.0.1:9/ipn"])
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut page = None;
    for _ in 0..100 {
        if let Ok(mut response) = agent.get(&format!("http://127.0.0.1:{port}/")).call() {
            page = Some((response.status().as_u16(), response.body_mut().read_to_string().unwrap()));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    let _ = child.wait();
    let (status, page) = page.expect("the gateway answered");
    assert_eq!(status, 200);
    assert!(page.contains("Back office") && page.contains("http://127.0.0.1:9/ipn"), "{page}");
}
