//! Confirmation with the gateway through both adapters, over real HTTP, against the gateway
//! simulator (`ipn gateway`): the shop confirms each form IPN with the simulator's
//! `V4/Transaction/Get` before its handler runs.
//!
//! - a genuine IPN is confirmed and handled, and a duplicate does not call the API again;
//! - a correctly signed IPN that the gateway contradicts (what a re-labelled message is) is
//!   refused `401`, and the handler never runs;
//! - with the API down the shop answers `503`, and the gateway's retry is then confirmed and
//!   handled once;
//! - every re-labelling the search builds from a genuine IPN echoing buyer text verifies without
//!   confirmation, and is refused by the shop that confirms.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipn_cli::Settings;
use ipn_cli::gateway::{Choice, Gateway};
use ipn_cli::send;
use ipn_core::form::{ExtraFields, Strictness};
use ipn_core::testkit::relabel::search::search;
use ipn_core::testkit::relabel::{BUYER_TEXT, posted};
use ipn_core::testkit::{FormBuilder, FormTemplate};
use ipn_core::{Config, FormAlgorithm, GatewayApi, Notification, Outcome, Receiver, Reply, Verifier};

const SHOP: &str = "12345678";
const FORM_KEY: &str = "1122334455667788";
const CONFIG: &str = r#"
[[shops]]
shop_id = "12345678"
accept_test_mode = true
[shops.form]
test_key = "1122334455667788"
[shops.rest]
test_password = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M"
"#;

/// How many notifications the handler ran for, and the last one.
#[derive(Debug, Default)]
struct Seen {
    calls: AtomicUsize,
    last: Mutex<Option<Notification>>,
}

impl Seen {
    fn record(&self, notification: Notification) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        *self.last.lock().unwrap() = Some(notification);
    }
}

type Handled = Arc<Seen>;

#[derive(Debug, Clone, Copy)]
enum Adapter {
    Tower,
    Actix,
}

/// Serves `/ipn` with the adapter's middleware around a handler that counts its calls.
async fn serve(adapter: Adapter, listener: std::net::TcpListener, receiver: Receiver, handled: Handled) {
    match adapter {
        Adapter::Tower => {
            use axum::routing::post;
            async fn handler(
                axum::extract::State(handled): axum::extract::State<Handled>,
                ipn_tower::Ipn(n): ipn_tower::Ipn<Notification>,
            ) -> ipn_tower::IpnReply {
                handled.record(n);
                ipn_tower::IpnReply::order_updated()
            }
            let layer = ipn_tower::IpnLayer::new(receiver);
            let app = axum::Router::new().route("/ipn", post(handler).layer(layer)).with_state(handled);
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
        Adapter::Actix => {
            use actix_web::web;
            async fn handler(
                handled: web::Data<Handled>,
                ipn_actix::Ipn(n): ipn_actix::Ipn<Notification>,
            ) -> ipn_actix::IpnReply {
                handled.record(n);
                ipn_actix::IpnReply::order_updated()
            }
            let server = actix_web::HttpServer::new(move || {
                actix_web::App::new().app_data(web::Data::new(handled.clone())).service(
                    web::resource("/ipn")
                        .wrap(ipn_actix::IpnMiddleware::new(receiver.clone()))
                        .route(web::post().to(handler)),
                )
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
            tokio::spawn(server);
        }
    }
}

/// The simulator and the shop, each knowing the other's address; the shop confirms its form IPNs
/// with the simulator.
struct World {
    gateway: Gateway,
    shop: String,
    handled: Handled,
}

async fn world(adapter: Adapter) -> World {
    let gateway_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_url = format!("http://{}", gateway_listener.local_addr().unwrap());
    let shop_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let shop = format!("http://{}/ipn", shop_listener.local_addr().unwrap());

    let gateway = Gateway::new(Settings::from_toml(CONFIG).unwrap(), shop.clone())
        .retries(2)
        .retry_interval(Duration::from_millis(100));
    let router = gateway.router();
    tokio::spawn(async move { axum::serve(gateway_listener, router).await });

    let config = Config::from_toml(CONFIG).unwrap().confirm_with(SHOP, GatewayApi::new(&gateway_url).unwrap()).unwrap();
    let handled = Handled::default();
    serve(adapter, shop_listener, Receiver::new(Verifier::from_config(config)), handled.clone()).await;
    World { gateway, shop, handled }
}

impl World {
    fn handled(&self) -> usize {
        self.handled.calls.load(Ordering::SeqCst)
    }

    /// A payment at the simulator with the merchant's signed form, completed by the buyer's
    /// choice; the statuses of the IPN's delivery attempts.
    async fn pay(&self, order_id: &str, choice: Choice) -> Vec<Option<u16>> {
        self.pay_with(order_id, choice, &[]).await
    }

    /// [`pay`](Self::pay) with more fields in the merchant's form (the gateway echoes them).
    async fn pay_with(&self, order_id: &str, choice: Choice, extra: &[(&str, &str)]) -> Vec<Option<u16>> {
        let request = FormBuilder::payment_request(SHOP, order_id);
        let fields = extra
            .iter()
            .fold(request, |request, (n, v)| request.set(*n, *v))
            .signed_fields(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256);
        let id = self.gateway.start_form_payment(fields).unwrap();
        let delivery = self.gateway.complete(id, choice).await.unwrap();
        delivery.attempts.iter().map(|a| a.status).collect()
    }

    /// The uuid of the transaction the simulator notified last for an order.
    fn uuid_of(&self, order_id: &str) -> String {
        let payment = self.gateway.payments().into_iter().find(|p| p.order_id == order_id).unwrap();
        payment.transactions.last().unwrap().clone()
    }

    /// POSTs a request to the shop once, as the gateway would: (status, body).
    async fn post(&self, request: ipn_core::testkit::RawRequest) -> (Option<u16>, String) {
        let url = self.shop.clone();
        let attempt = tokio::task::spawn_blocking(move || send::post_once(&url, &request, 1)).await.unwrap();
        (attempt.status, attempt.stored)
    }
}

async fn confirmation_end_to_end(adapter: Adapter) {
    let world = world(adapter).await;

    // A genuine IPN: confirmed with the API, handled once.
    assert_eq!(world.pay("ORDER-1", Choice::Accept).await, [Some(200)], "{adapter:?}");
    assert_eq!((world.handled(), world.gateway.api_calls()), (1, 1), "{adapter:?}");

    // The same notification again (a Back Office replay keeps the signed claim): the
    // confirmation is remembered, the API is not called again.
    let id = world.gateway.payments().into_iter().find(|p| p.order_id == "ORDER-1").unwrap().id;
    let replay = world.gateway.back_office(id, ipn_cli::gateway::Action::Replay).await.unwrap();
    assert_eq!(replay.attempts.iter().map(|a| a.status).collect::<Vec<_>>(), [Some(200)], "{adapter:?}");
    assert_eq!(world.gateway.api_calls(), 1, "{adapter:?}: a replay is confirmed from the cache");

    // A refused payment, then a correctly signed IPN that says it was authorised: what a
    // re-labelled message claims. The gateway's record contradicts it.
    assert_eq!(world.pay("ORDER-2", Choice::Refuse).await, [Some(200)], "{adapter:?}");
    let handled = world.handled();
    let forged = FormBuilder::new(FormTemplate::Accepted, SHOP)
        .set("vads_order_id", "ORDER-2")
        .set("vads_trans_uuid", world.uuid_of("ORDER-2"))
        .target("/ipn")
        .sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256);
    let (status, body) = world.post(forged).await;
    let refused = Reply::for_outcome(Outcome::NotConfirmed);
    assert_eq!((status, body.as_str()), (Some(refused.status()), refused.body()), "{adapter:?}");
    assert_eq!(world.handled(), handled, "{adapter:?}: the handler never runs for a refused notification");

    // The API down for one call: 503, the gateway retries, the retry is confirmed and handled.
    world.gateway.api_outage(1);
    let handled = world.handled();
    assert_eq!(world.pay("ORDER-3", Choice::Accept).await, [Some(503), Some(200)], "{adapter:?}");
    assert_eq!(world.handled(), handled + 1, "{adapter:?}: handled once, after the retry");

    // A genuine IPN echoing text the buyer typed, and the forgeries the re-labelling search
    // builds from it: each verifies as an IPN without confirmation (a real forgery), and each is
    // refused by the shop that confirms.
    assert_eq!(world.pay_with("ORDER-5", Choice::Accept, &BUYER_TEXT).await, [Some(200)], "{adapter:?}");
    let genuine = world.handled.last.lock().unwrap().clone().unwrap();
    let form = genuine.as_form().unwrap();
    let signature = form.get("signature").unwrap().to_owned();
    let fields: Vec<(String, String)> =
        form.fields().iter().filter(|(n, _)| *n != "signature").map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    let outcome = search(&fields, true, &ExtraFields::default(), Strictness::Tightened);
    assert!(!outcome.findings.is_empty(), "{adapter:?}: the search finds re-labellings of buyer text");
    let unconfirmed = Verifier::from_config(Config::from_toml(CONFIG).unwrap());
    let handled = world.handled();
    for finding in &outcome.findings {
        let forged = posted(&finding.fields, &signature);
        let accepted = unconfirmed.verify(forged.view()).await.unwrap();
        assert!(accepted.as_form().unwrap().is_ipn(), "{:?}", finding.identity);
        let (status, body) = world.post(forged).await;
        assert_eq!((status, body.as_str()), (Some(refused.status()), refused.body()), "{:?}", finding.identity);
    }
    assert_eq!(world.handled(), handled, "{adapter:?}: no forgery reached the handler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_confirms_form_ipns_with_the_gateway() {
    confirmation_end_to_end(Adapter::Tower).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_confirms_form_ipns_with_the_gateway() {
    confirmation_end_to_end(Adapter::Actix).await;
}
