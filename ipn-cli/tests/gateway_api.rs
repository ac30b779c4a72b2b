//! The simulator's REST API `V4/Transaction/Get`, over loopback HTTP: what a shop confirming a
//! form IPN with the gateway asks, and every way the request can be wrong.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use base64::Engine as _;
use common::CONFIG;
use ipn_cli::Settings;
use ipn_cli::gateway::{Action, Choice, Gateway};
use ipn_core::FormAlgorithm;
use ipn_core::testkit::FormBuilder;
use serde_json::{Value, json};

const SHOP: &str = "12345678";
const TEST_PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";
const PRODUCTION_PASSWORD: &str = "prodpassword_DEMOPRIVATEKEY";

type Bodies = Arc<Mutex<Vec<String>>>;

/// A shop that stores the notifications it receives and answers 200.
async fn shop() -> (String, Bodies) {
    async fn ipn(State(bodies): State<Bodies>, body: String) -> &'static str {
        bodies.lock().unwrap().push(body);
        "OK"
    }
    let bodies = Bodies::default();
    let app = Router::new().route("/ipn", post(ipn)).with_state(bodies.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ipn", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, bodies)
}

/// A simulator notifying a stub shop, served on loopback: (gateway, base URL, notifications).
async fn gateway() -> (Gateway, String, Bodies) {
    gateway_with(CONFIG).await
}

async fn gateway_with(config: &str) -> (Gateway, String, Bodies) {
    let (notify, bodies) = shop().await;
    let gateway = Gateway::new(Settings::from_toml(config).unwrap(), notify).retries(0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = gateway.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (gateway, base, bodies)
}

/// The signed hosted-payment form of an order, with extra fields.
fn payment_form(order_id: &str, mode: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let key: &[u8] = if mode == "TEST" { b"1122334455667788" } else { b"8877665544332211" };
    let request = FormBuilder::payment_request(SHOP, order_id)
        .set("vads_ctx_mode", mode)
        .set("vads_cust_email", "jeanne@example.com");
    extra.iter().fold(request, |request, (n, v)| request.set(*n, *v)).signed_fields(key, FormAlgorithm::HmacSha256)
}

fn basic(shop_id: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{shop_id}:{password}")))
}

/// POSTs to `{base}{path}` with an optional Authorization header: (status, body).
async fn post_raw(base: &str, path: &str, authorization: Option<String>, body: Vec<u8>) -> (u16, String) {
    let url = format!("{base}{path}");
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut request = agent.post(&url).header("Content-Type", "application/json");
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let mut response = request.send(&body[..]).unwrap();
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
    })
    .await
    .unwrap()
}

/// `Transaction/Get` of a uuid with a password: (status, JSON answer).
async fn get_transaction(base: &str, password: &str, uuid: &str) -> (u16, Value) {
    let body = json!({ "uuid": uuid }).to_string().into_bytes();
    let (status, text) = post_raw(base, "/api-payment/V4/Transaction/Get", Some(basic(SHOP, password)), body).await;
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}

/// A transaction found: the answer, after checking the envelope.
async fn found(base: &str, password: &str, uuid: &str) -> Value {
    let (status, document) = get_transaction(base, password, uuid).await;
    assert_eq!(status, 200, "{document}");
    assert_eq!(document["status"], "SUCCESS", "{document}");
    assert_eq!(document["webService"], "Transaction/Get");
    assert_eq!(document["version"], "V4");
    assert_eq!(document["applicationProvider"], "LYRA");
    assert_eq!(document["_type"], "V4/WebService/Response");
    assert_eq!(document["serverUrl"], base);
    let answer = document["answer"].clone();
    assert_eq!(answer["_type"], "V4/Transaction");
    assert_eq!(answer["uuid"], uuid);
    assert_eq!(answer["shopId"], SHOP);
    assert_eq!(answer["orderDetails"]["mode"], document["mode"]);
    answer
}

fn ipn_field(body: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(body.as_bytes()).find(|(n, _)| n == name).map(|(_, v)| v.into_owned())
}

/// The transaction uuids of a payment, in the order the gateway created them.
fn uuids(gateway: &Gateway, id: u64) -> Vec<String> {
    gateway.payments().into_iter().find(|p| p.id == id).unwrap().transactions
}

fn assert_error(document: &Value, code: &str, mode: Value) {
    assert_eq!(document["status"], "ERROR", "{document}");
    assert_eq!(document["answer"]["errorCode"], code, "{document}");
    assert_eq!(document["answer"]["_type"], "V4/WebService/WebServiceError");
    assert_eq!(document["mode"], mode, "{document}");
    assert_eq!(document["webService"], "Transaction/Get");
    assert_eq!(document["_type"], "V4/WebService/Response");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notified_payment_and_its_refund_are_found_as_last_notified() {
    let (gateway, base, bodies) = gateway().await;
    let id = gateway.start_form_payment(payment_form("ORDER-7", "TEST", &[])).unwrap();
    assert!(uuids(&gateway, id).is_empty(), "no transaction before a notification");
    gateway.complete(id, Choice::Accept).await.unwrap();
    let [uuid] = <[String; 1]>::try_from(uuids(&gateway, id)).unwrap();
    assert_eq!(ipn_field(&bodies.lock().unwrap()[0], "vads_trans_uuid").as_deref(), Some(uuid.as_str()));

    let answer = found(&base, TEST_PASSWORD, &uuid).await;
    let creation = answer["creationDate"].as_str().unwrap().to_owned();
    let expected = json!({
        "shopId": SHOP, "uuid": uuid, "amount": 4525, "currency": "EUR", "paymentMethodType": "CARD",
        "paymentMethodToken": null, "status": "PAID", "detailedStatus": "AUTHORISED", "operationType": "DEBIT",
        "effectiveStrongAuthentication": "DISABLED", "creationDate": creation, "errorCode": null,
        "errorMessage": null, "detailedErrorCode": null, "detailedErrorMessage": null, "metadata": null,
        "transactionDetails": {
            "liabilityShift": "NO", "effectiveAmount": 4525, "effectiveCurrency": "EUR", "creationContext": "CHARGE",
            "cardDetails": { "effectiveBrand": "CB", "pan": "497010XXXXXX0055", "_type": "V4/CardDetails" },
            "parentTransactionUuid": null, "_type": "V4/TransactionDetails"
        },
        "orderDetails": {
            "orderTotalAmount": 4525, "orderEffectiveAmount": 4525, "orderCurrency": "EUR", "mode": "TEST",
            "orderId": "ORDER-7", "metadata": null, "_type": "V4/OrderDetails"
        },
        "customer": { "email": "jeanne@example.com", "reference": null, "_type": "V4/Customer/Customer" },
        "_type": "V4/Transaction"
    });
    assert_eq!(answer, expected);
    assert!(time::OffsetDateTime::parse(&creation, &time::format_description::well_known::Rfc3339).is_ok());

    // A refund is a new transaction pointing at the payment; the payment is still there.
    gateway.back_office(id, Action::Refund).await.unwrap();
    let all = uuids(&gateway, id);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0], uuid);
    let refund = &all[1];
    assert_ne!(refund, &uuid);
    assert_eq!(ipn_field(&bodies.lock().unwrap()[1], "vads_trans_uuid").as_ref(), Some(refund));
    let answer = found(&base, TEST_PASSWORD, refund).await;
    assert_eq!(answer["operationType"], "CREDIT");
    assert_eq!(answer["detailedStatus"], "AUTHORISED");
    assert_eq!(answer["amount"], 4525);
    assert_eq!(answer["transactionDetails"]["parentTransactionUuid"], uuid.as_str());
    assert_eq!(answer["orderDetails"]["orderId"], "ORDER-7");
    let answer = found(&base, TEST_PASSWORD, &uuid).await;
    assert_eq!((&answer["operationType"], &answer["detailedStatus"]), (&json!("DEBIT"), &json!("AUTHORISED")));

    // A replay of the refund keeps its parent.
    gateway.back_office(id, Action::Replay).await.unwrap();
    let answer = found(&base, TEST_PASSWORD, refund).await;
    assert_eq!(answer["transactionDetails"]["parentTransactionUuid"], uuid.as_str());
    assert_eq!(uuids(&gateway, id).len(), 2);

    // The back office shows the uuids, to try the API by hand.
    let page = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        agent.get(&format!("{base}/")).call().unwrap().body_mut().read_to_string().unwrap()
    })
    .await
    .unwrap();
    assert!(page.contains(&uuid) && page.contains(refund.as_str()), "{page}");
    assert!(page.contains("/api-payment/V4/Transaction/Get"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_office_actions_update_the_payment_transaction() {
    let (gateway, base, _) = gateway().await;

    let cancelled = gateway.start_form_payment(payment_form("ORDER-8", "TEST", &[])).unwrap();
    gateway.complete(cancelled, Choice::Accept).await.unwrap();
    gateway.back_office(cancelled, Action::Cancel).await.unwrap();
    let [uuid] = <[String; 1]>::try_from(uuids(&gateway, cancelled)).unwrap();
    let answer = found(&base, TEST_PASSWORD, &uuid).await;
    assert_eq!((&answer["status"], &answer["detailedStatus"]), (&json!("UNPAID"), &json!("CANCELLED")));
    assert_eq!(answer["operationType"], "DEBIT");

    let to_validate =
        gateway.start_form_payment(payment_form("ORDER-9", "TEST", &[("vads_validation_mode", "1")])).unwrap();
    gateway.complete(to_validate, Choice::Accept).await.unwrap();
    let [uuid] = <[String; 1]>::try_from(uuids(&gateway, to_validate)).unwrap();
    let answer = found(&base, TEST_PASSWORD, &uuid).await;
    assert_eq!((&answer["status"], &answer["detailedStatus"]), (&json!("RUNNING"), &json!("AUTHORISED_TO_VALIDATE")));
    gateway.back_office(to_validate, Action::Validate).await.unwrap();
    assert_eq!(uuids(&gateway, to_validate), std::slice::from_ref(&uuid));
    let answer = found(&base, TEST_PASSWORD, &uuid).await;
    assert_eq!((&answer["status"], &answer["detailedStatus"]), (&json!("PAID"), &json!("AUTHORISED")));

    let refused = gateway.start_form_payment(payment_form("ORDER-10", "TEST", &[])).unwrap();
    gateway.complete(refused, Choice::Refuse).await.unwrap();
    let [uuid] = <[String; 1]>::try_from(uuids(&gateway, refused)).unwrap();
    let answer = found(&base, TEST_PASSWORD, &uuid).await;
    assert_eq!((&answer["status"], &answer["detailedStatus"]), (&json!("UNPAID"), &json!("REFUSED")));

    let abandoned = gateway.start_form_payment(payment_form("ORDER-11", "TEST", &[])).unwrap();
    gateway.complete(abandoned, Choice::Abandon).await.unwrap();
    let [uuid] = <[String; 1]>::try_from(uuids(&gateway, abandoned)).unwrap();
    let answer = found(&base, TEST_PASSWORD, &uuid).await;
    assert_eq!((&answer["status"], &answer["detailedStatus"]), (&json!("UNPAID"), &json!("ABANDONED")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_decides_who_sees_what() {
    let (gateway, base, _) = gateway().await;
    let test = gateway.start_form_payment(payment_form("ORDER-T", "TEST", &[])).unwrap();
    gateway.complete(test, Choice::Accept).await.unwrap();
    let production = gateway.start_form_payment(payment_form("ORDER-P", "PRODUCTION", &[])).unwrap();
    gateway.complete(production, Choice::Accept).await.unwrap();
    let test_uuid = uuids(&gateway, test).remove(0);
    let production_uuid = uuids(&gateway, production).remove(0);

    let answer = found(&base, PRODUCTION_PASSWORD, &production_uuid).await;
    assert_eq!(answer["orderDetails"]["mode"], "PRODUCTION");
    assert_eq!(answer["orderDetails"]["orderId"], "ORDER-P");

    // Each mode's password sees its mode's transactions only.
    let (status, document) = get_transaction(&base, TEST_PASSWORD, &production_uuid).await;
    assert_eq!(status, 200);
    assert_error(&document, "PSP_010", json!("TEST"));
    let (status, document) = get_transaction(&base, PRODUCTION_PASSWORD, &test_uuid).await;
    assert_eq!(status, 200);
    assert_error(&document, "PSP_010", json!("PRODUCTION"));

    // An unknown uuid: the whole not-found envelope.
    let (status, document) = get_transaction(&base, TEST_PASSWORD, "0123456789abcdef0123456789abcdef").await;
    assert_eq!(status, 200);
    let date = document["serverDate"].as_str().unwrap().to_owned();
    assert!(time::OffsetDateTime::parse(&date, &time::format_description::well_known::Rfc3339).is_ok(), "{date}");
    let expected = json!({
        "webService": "Transaction/Get", "version": "V4", "applicationVersion": "ipn-gateway", "status": "ERROR",
        "answer": {
            "errorCode": "PSP_010", "errorMessage": "transaction not found", "detailedErrorCode": null,
            "detailedErrorMessage": null, "_type": "V4/WebService/WebServiceError"
        },
        "ticket": null, "serverDate": date, "applicationProvider": "LYRA", "metadata": null, "mode": "TEST",
        "serverUrl": base, "_type": "V4/WebService/Response"
    });
    assert_eq!(document, expected);

    // Wrong, missing or malformed credentials: 401 and the gateway's INT_905.
    let refused = json!({
        "webService": "Transaction/Get", "version": "V4", "status": "ERROR",
        "answer": {
            "errorCode": "INT_905", "errorMessage": "invalid authentication", "detailedErrorCode": null,
            "detailedErrorMessage": null, "_type": "V4/WebService/WebServiceError"
        },
        "mode": null, "_type": "V4/WebService/Response"
    });
    let body = json!({ "uuid": test_uuid }).to_string().into_bytes();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for authorization in [
        Some(basic(SHOP, "wrong")),
        Some(basic(SHOP, &TEST_PASSWORD[..TEST_PASSWORD.len() - 1])),
        Some(basic(SHOP, &format!("{TEST_PASSWORD}x"))),
        Some(basic(SHOP, "")),
        Some(basic("87654321", TEST_PASSWORD)),
        Some(basic("", TEST_PASSWORD)),
        Some(format!("Bearer {}", b64(&format!("{SHOP}:{TEST_PASSWORD}")))),
        Some(format!("Basic {}", b64(&format!("{SHOP}{TEST_PASSWORD}")))),
        Some("Basic !!!not-base64!!!".to_owned()),
        Some("Basic".to_owned()),
        Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(b"\xff\xfe:\xff"))),
        None,
    ] {
        let (status, text) =
            post_raw(&base, "/api-payment/V4/Transaction/Get", authorization.clone(), body.clone()).await;
        assert_eq!(status, 401, "{authorization:?}: {text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), refused, "{authorization:?}");
    }
    // The scheme name is case-insensitive.
    let lower = basic(SHOP, TEST_PASSWORD).replacen("Basic", "basic", 1);
    let (status, text) = post_raw(&base, "/api-payment/V4/Transaction/Get", Some(lower), body).await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_does_not_see_another_shops_transactions() {
    let config =
        format!("{CONFIG}\n[[shops]]\nshop_id = \"87654321\"\n[shops.rest]\ntest_password = \"other-shop-password\"\n");
    let (gateway, base, _) = gateway_with(&config).await;
    let id = gateway.start_form_payment(payment_form("ORDER-S", "TEST", &[])).unwrap();
    gateway.complete(id, Choice::Accept).await.unwrap();
    let uuid = uuids(&gateway, id).remove(0);
    found(&base, TEST_PASSWORD, &uuid).await;
    let body = json!({ "uuid": uuid }).to_string().into_bytes();
    let other = Some(basic("87654321", "other-shop-password"));
    let (status, text) = post_raw(&base, "/api-payment/V4/Transaction/Get", other, body.clone()).await;
    assert_eq!(status, 200, "{text}");
    assert_error(&serde_json::from_str(&text).unwrap(), "PSP_010", json!("TEST"));
    // Nor with its password under this shop's id.
    let mixed = Some(basic(SHOP, "other-shop-password"));
    let (status, _) = post_raw(&base, "/api-payment/V4/Transaction/Get", mixed, body).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_requests_are_refused() {
    let (_, base, _) = gateway().await;
    let auth = || Some(basic(SHOP, TEST_PASSWORD));
    for body in [
        &b"not json"[..],
        b"",
        b"{}",
        b"[]",
        b"null",
        b"{\"uuid\":42}",
        b"{\"uuid\":null}",
        b"{\"uuid\":\"abc\"",
        b"\xff\xfe",
        b"{\"uuid\":\"\\ud800\"}",
    ] {
        let (status, text) = post_raw(&base, "/api-payment/V4/Transaction/Get", auth(), body.to_vec()).await;
        assert_eq!(status, 200, "{body:?}: {text}");
        assert_error(&serde_json::from_str(&text).unwrap(), "INT_902", json!("TEST"));
    }
    // Deep nesting is refused by the parser's own limit, without a stack overflow.
    let deep = format!("{}{}", "[".repeat(2000), "]".repeat(2000)).into_bytes();
    let (status, text) = post_raw(&base, "/api-payment/V4/Transaction/Get", auth(), deep).await;
    assert_eq!(status, 200, "{text}");
    assert_error(&serde_json::from_str(&text).unwrap(), "INT_902", json!("TEST"));

    // 4 KiB is read; one byte more is refused.
    let padded = |len: usize| {
        let mut body = b"{\"uuid\":\"0123456789abcdef0123456789abcdef\"}".to_vec();
        body.resize(len, b' ');
        body
    };
    let (status, text) = post_raw(&base, "/api-payment/V4/Transaction/Get", auth(), padded(4096)).await;
    assert_eq!(status, 200, "{text}");
    assert_error(&serde_json::from_str(&text).unwrap(), "PSP_010", json!("TEST"));
    let (status, _) = post_raw(&base, "/api-payment/V4/Transaction/Get", auth(), padded(4097)).await;
    assert_eq!(status, 413);
    // A declared 1 MiB is refused before it is sent; a chunked body when it passes the limit.
    let head = "POST /api-payment/V4/Transaction/Get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    let declared = format!("{head}Content-Length: 1048576\r\n\r\n{{\"uuid\":");
    assert_eq!(raw_status(&base, declared.into_bytes()).await, "HTTP/1.1 413");
    let mut chunked = format!("{head}Transfer-Encoding: chunked\r\n\r\n1388\r\n").into_bytes();
    chunked.resize(chunked.len() + 0x1388, b' ');
    assert_eq!(raw_status(&base, chunked).await, "HTTP/1.1 413");
}

/// Writes raw bytes to the server and reads the status line's start, without finishing the
/// request.
async fn raw_status(base: &str, request: Vec<u8>) -> String {
    let addr = base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        stream.write_all(&request).unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        String::from_utf8_lossy(&head).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_answers_503_until_it_is_over_and_calls_are_counted() {
    let (gateway, base, _) = gateway().await;
    let id = gateway.start_form_payment(payment_form("ORDER-12", "TEST", &[])).unwrap();
    gateway.complete(id, Choice::Accept).await.unwrap();
    let uuid = uuids(&gateway, id).remove(0);
    assert_eq!(gateway.api_calls(), 0);

    gateway.api_outage(1);
    let body = json!({ "uuid": uuid }).to_string().into_bytes();
    let (status, text) =
        post_raw(&base, "/api-payment/V4/Transaction/Get", Some(basic(SHOP, TEST_PASSWORD)), body.clone()).await;
    assert_eq!(status, 503, "{text}");
    found(&base, TEST_PASSWORD, &uuid).await;
    assert_eq!(gateway.api_calls(), 2);

    // The same through the route a test driving `ipn gateway` as a process uses.
    let (status, text) = post_raw(&base, "/api-payment/outage/2", None, Vec::new()).await;
    assert_eq!(status, 200, "{text}");
    for _ in 0..2 {
        let (status, _) = post_raw(&base, "/api-payment/V4/Transaction/Get", None, body.clone()).await;
        assert_eq!(status, 503);
    }
    found(&base, TEST_PASSWORD, &uuid).await;
    assert_eq!(gateway.api_calls(), 5);
    let (status, _) = post_raw(&base, "/api-payment/outage/not-a-number", None, Vec::new()).await;
    assert_eq!(status, 400);
    let (status, _) = post_raw(&base, "/api-payment/outage/99999999999", None, Vec::new()).await;
    assert_eq!(status, 400);
    found(&base, TEST_PASSWORD, &uuid).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_payments_are_not_served() {
    let (gateway, _, _) = gateway().await;
    let app = "fbab3ccc-719e-11ed-93ad-02420a0003c1";
    let signature = ipn_core::testkit::payment_link_signature(app, "INV-5", "C", "150", "XOF", b"app!secret");
    let query = [
        ("applicationId", app),
        ("invoiceId", "INV-5"),
        ("customerId", "C"),
        ("amount", "150"),
        ("currency", "XOF"),
        ("signature", signature.as_str()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let id = gateway.start_link_payment(&query).unwrap();
    gateway.complete(id, Choice::Accept).await.unwrap();
    assert!(uuids(&gateway, id).is_empty());
}

#[test]
fn the_gateway_command_serves_the_api_and_its_outage_switch() {
    let dir = common::TempDir::new("gateway-api");
    let config = dir.write("ipn.toml", CONFIG);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ipn"))
        .args(["gateway", "--config", config.to_str().unwrap(), "--notify", "http://127.0.0.1:9/ipn"])
        .args(["--bind", &format!("127.0.0.1:{port}"), "--api-outage", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("http://127.0.0.1:{port}/api-payment/V4/Transaction/Get");
    let call = || {
        agent
            .post(&url)
            .header("Authorization", basic(SHOP, TEST_PASSWORD))
            .header("Content-Type", "application/json")
            .send("{\"uuid\":\"0123456789abcdef0123456789abcdef\"}")
            .map(|mut r| (r.status().as_u16(), r.body_mut().read_to_string().unwrap()))
    };
    let mut first = None;
    for _ in 0..100 {
        if let Ok(answer) = call() {
            first = Some(answer);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let outage_url = format!("http://127.0.0.1:{port}/api-payment/outage/1");
    let rest = first.is_some().then(|| {
        let second = call().unwrap();
        let switched = agent.post(&outage_url).send_empty().unwrap().status().as_u16();
        (second, switched, call().unwrap(), call().unwrap())
    });
    child.kill().unwrap();
    let _ = child.wait();
    let (status, _) = first.expect("the gateway answered");
    assert_eq!(status, 503, "--api-outage 1");
    let (second, switched, third, fourth) = rest.unwrap();
    assert_eq!(second.0, 200, "{}", second.1);
    assert!(second.1.contains("PSP_010"), "{}", second.1);
    assert_eq!(switched, 200);
    assert_eq!(third.0, 503);
    assert_eq!(fourth.0, 200);
}
