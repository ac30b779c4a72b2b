//! Confirmation with the gateway (`ShopKeys::confirm_with`): a form IPN of a shop that opted in is
//! compared with the gateway's record of its transaction (`V4/Transaction/Get`) before it is
//! handed out. These tests answer the API from a fixture transport; the adapters' tests run the
//! whole path over HTTP against the gateway simulator.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use ipn_core::confirm::{ApiRequest, ApiResponse, ApiTransport, TransportError};
use ipn_core::testkit::{FormBuilder, FormTemplate, RawRequest};
use ipn_core::{
    Config, Endpoint, Error, FormAlgorithm, GatewayApi, Keys, Mode, Notification, Outcome, ShopKeys, Verifier,
    async_trait,
};
use serde_json::{Value, json};

const SHOP: &str = "12345678";
const FORM_KEY: &str = "1122334455667788";
const TEST_PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";
const PRODUCTION_PASSWORD: &str = "prodpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";
const API: &str = "https://api.gateway.example";

/// The gateway's API as a fixture: its records by uuid, the calls it saw, and how many of the
/// next calls fail as if the API were unreachable.
#[derive(Debug, Default)]
struct Fixture {
    records: Mutex<HashMap<String, Value>>,
    calls: AtomicUsize,
    failures: AtomicU32,
    seen: Mutex<Vec<(String, String, String)>>,
}

#[derive(Debug, Clone, Default)]
struct Transport(Arc<Fixture>);

#[async_trait]
impl ApiTransport for Transport {
    async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, TransportError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        let authorization = String::from_utf8(request.authorization().expose().to_vec()).unwrap();
        self.0.seen.lock().unwrap().push((request.url().to_owned(), authorization, request.body().to_owned()));
        if self.0.failures.load(Ordering::SeqCst) > 0 {
            self.0.failures.fetch_sub(1, Ordering::SeqCst);
            return Err(TransportError::new("connection refused"));
        }
        let uuid = serde_json::from_str::<Value>(request.body()).unwrap()["uuid"].as_str().unwrap().to_owned();
        let (status, answer) = match self.0.records.lock().unwrap().get(&uuid) {
            Some(record) => ("SUCCESS", record.clone()),
            None => ("ERROR", json!({"errorCode": "PSP_010", "errorMessage": "transaction not found"})),
        };
        let body = json!({"webService": "Transaction/Get", "version": "V4", "status": status, "answer": answer});
        Ok(ApiResponse::new(200, body.to_string()))
    }
}

impl Transport {
    /// Records what the gateway knows of the transaction the request notifies, as the gateway
    /// would have it, with `status` as its current detailed status.
    fn knows(&self, request: &RawRequest, status: &str) {
        let fields: HashMap<String, String> = form_urlencoded::parse(request.body()).into_owned().collect();
        let currency = ipn_core::Currency::from_numeric(&fields["vads_currency"]).code().to_owned();
        let record = json!({
            "shopId": fields["vads_site_id"], "uuid": fields["vads_trans_uuid"],
            "amount": fields["vads_amount"].parse::<i64>().unwrap(), "currency": currency,
            "status": "PAID", "detailedStatus": status, "operationType": fields["vads_operation_type"],
            "orderDetails": {"orderId": fields.get("vads_order_id"), "mode": fields["vads_ctx_mode"]},
            "_type": "V4/Transaction"
        });
        self.0.records.lock().unwrap().insert(fields["vads_trans_uuid"].clone(), record);
    }

    fn calls(&self) -> usize {
        self.0.calls.load(Ordering::SeqCst)
    }
}

fn shop() -> ShopKeys {
    ShopKeys::new(SHOP)
        .form_key(Mode::Test, FORM_KEY)
        .form_key(Mode::Production, FORM_KEY)
        .rest_password(Mode::Test, TEST_PASSWORD)
        .rest_password(Mode::Production, PRODUCTION_PASSWORD)
        .accept_test_mode(true)
}

fn confirming(transport: &Transport) -> Verifier {
    let keys = Keys::builder().shop(shop().confirm_with(GatewayApi::new(API).unwrap())).build().unwrap();
    Verifier::new(keys).gateway_transport(transport.clone())
}

fn ipn(template: FormTemplate) -> RawRequest {
    FormBuilder::new(template, SHOP).sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256)
}

fn verify(verifier: &Verifier, request: &RawRequest) -> Result<Notification, Error> {
    pollster::block_on(verifier.verify(request.view()))
}

#[test]
fn a_genuine_ipn_is_confirmed_once_then_remembered() {
    let transport = Transport::default();
    let verifier = confirming(&transport);
    for template in [FormTemplate::Accepted, FormTemplate::Refused, FormTemplate::Refund, FormTemplate::Cancellation] {
        let request = ipn(template);
        let status = FormBuilder::from_request(&request).unwrap().get("vads_trans_status").unwrap().to_owned();
        transport.knows(&request, &status);
        let before = transport.calls();
        verify(&verifier, &request).unwrap();
        assert_eq!(transport.calls(), before + 1, "{template:?}");
        verify(&verifier.clone(), &request).unwrap();
        assert_eq!(transport.calls(), before + 1, "{template:?}: a duplicate or retry does not call the API again");
    }
}

#[test]
fn the_call_is_the_vendors_transaction_get_with_the_password_of_the_notifications_mode() {
    let transport = Transport::default();
    let verifier = confirming(&transport);
    for (mode, password) in [(Mode::Test, TEST_PASSWORD), (Mode::Production, PRODUCTION_PASSWORD)] {
        let request = FormBuilder::new(FormTemplate::Accepted, SHOP)
            .mode(mode)
            .sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256);
        transport.knows(&request, "AUTHORISED");
        verify(&verifier, &request).unwrap();
        let (url, authorization, body) = transport.0.seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(url, format!("{API}/api-payment/V4/Transaction/Get"));
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SHOP}:{password}"));
        assert_eq!(authorization, format!("Basic {basic}"));
        let uuid = FormBuilder::from_request(&request).unwrap().get("vads_trans_uuid").unwrap().to_owned();
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({ "uuid": uuid }));
    }
}

#[test]
fn an_ipn_the_gateway_contradicts_is_refused_as_not_confirmed() {
    let transport = Transport::default();
    let verifier = confirming(&transport);
    // Each record differs from the signed notification in one compared value: what a
    // re-labelled message claims that the gateway never said.
    let changes: [(&str, Value); 6] = [
        ("/detailedStatus", "REFUSED".into()),
        ("/amount", 1.into()),
        ("/currency", "USD".into()),
        ("/operationType", "CREDIT".into()),
        ("/orderDetails/orderId", "ORDER-9999".into()),
        ("/orderDetails/mode", "PRODUCTION".into()),
    ];
    for (pointer, value) in changes {
        let request = ipn(FormTemplate::Accepted);
        transport.knows(&request, "AUTHORISED");
        let uuid = FormBuilder::from_request(&request).unwrap().get("vads_trans_uuid").unwrap().to_owned();
        *transport.0.records.lock().unwrap().get_mut(&uuid).unwrap().pointer_mut(pointer).unwrap() = value;
        let error = verify(&verifier, &request).unwrap_err();
        assert!(matches!(error, Error::NotConfirmed { .. }), "{pointer}: {error}");
        assert_eq!((error.outcome(), error.outcome().default_status()), (Outcome::NotConfirmed, 401));
        // A refusal is not remembered: once the gateway's record agrees, the retry confirms.
        transport.knows(&request, "AUTHORISED");
        verify(&verifier, &request).unwrap();
    }
}

#[test]
fn a_transaction_the_gateway_does_not_know_is_refused() {
    let transport = Transport::default();
    let error = verify(&confirming(&transport), &ipn(FormTemplate::Accepted)).unwrap_err();
    assert!(matches!(error, Error::NotConfirmed { .. }), "{error}");
}

#[test]
fn a_capture_since_the_authorisation_still_confirms_it() {
    let transport = Transport::default();
    let request = ipn(FormTemplate::Accepted);
    transport.knows(&request, "CAPTURED");
    verify(&confirming(&transport), &request).unwrap();
}

#[test]
fn an_unreachable_api_is_answered_503_and_the_retry_confirms() {
    let transport = Transport::default();
    let verifier = confirming(&transport);
    let request = ipn(FormTemplate::Accepted);
    transport.knows(&request, "AUTHORISED");
    transport.0.failures.store(1, Ordering::SeqCst);
    let error = verify(&verifier, &request).unwrap_err();
    assert!(matches!(error, Error::ConfirmationUnavailable { .. }), "{error}");
    assert_eq!(error.outcome().default_status(), 503);
    verify(&verifier, &request).unwrap();
    assert_eq!(transport.calls(), 2);
}

#[test]
fn the_signature_is_checked_before_the_api_is_called() {
    let transport = Transport::default();
    let verifier = confirming(&transport);
    let forged = FormBuilder::new(FormTemplate::Accepted, SHOP).sign(b"not the key", FormAlgorithm::HmacSha256);
    assert!(matches!(verify(&verifier, &forged), Err(Error::SignatureMismatch)));
    assert_eq!(transport.calls(), 0, "an unauthenticated request must not make the server call the gateway");
}

#[test]
fn browser_returns_and_shops_that_did_not_opt_in_are_not_confirmed() {
    let transport = Transport::default();
    let returns = confirming(&transport).endpoint(Endpoint::Return);
    let browser = FormBuilder::new(FormTemplate::Accepted, SHOP)
        .browser_return()
        .sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256);
    verify(&returns, &browser).unwrap();
    let plain = Verifier::new(Keys::builder().shop(shop()).build().unwrap()).gateway_transport(transport.clone());
    verify(&plain, &ipn(FormTemplate::Accepted)).unwrap();
    assert_eq!(transport.calls(), 0);
}

#[test]
fn a_notification_without_a_transaction_cannot_be_confirmed() {
    let transport = Transport::default();
    let error = verify(&confirming(&transport), &ipn(FormTemplate::TokenCreation)).unwrap_err();
    assert!(matches!(error, Error::NotConfirmed { .. }), "{error}");
    assert!(error.to_string().contains("vads_trans_uuid"), "{error}");
    assert_eq!(transport.calls(), 0);
}

#[test]
fn opting_in_needs_the_rest_passwords_and_an_https_api() {
    let api = GatewayApi::new(API).unwrap();
    let no_password = ShopKeys::new(SHOP).form_key(Mode::Test, FORM_KEY).confirm_with(api.clone());
    let error = Keys::builder().shop(no_password).build().unwrap_err().to_string();
    assert!(error.contains("rest.test_password"), "{error}");

    let toml = |url: &str| {
        format!(
            "[[shops]]\nshop_id = \"{SHOP}\"\nconfirm_with = \"{url}\"\n[shops.form]\ntest_key = \"{FORM_KEY}\"\n\
             [shops.rest]\ntest_password = \"{TEST_PASSWORD}\"\n"
        )
    };
    assert!(Config::from_toml(&toml(API)).is_ok());
    let loaded = Config::from_toml(&toml(API).replace("confirm_with", "# confirm_with")).unwrap();
    let form = loaded.keys().lookup(ipn_core::KeySlot::Form { shop_id: SHOP, mode: Mode::Test }).unwrap();
    assert_eq!(form.confirmed_with(), None);
    let late = loaded.confirm_with(SHOP, api.clone()).unwrap();
    let form = late.keys().lookup(ipn_core::KeySlot::Form { shop_id: SHOP, mode: Mode::Test }).unwrap();
    assert_eq!(form.confirmed_with(), Some(&api));
    assert!(late.confirm_with("87654321", api.clone()).is_err());
    assert!(Config::from_toml(&toml("http://127.0.0.1:8080")).is_ok());
    for refused in
        ["http://api.gateway.example", "ftp://x", "https://shop:secretpw@api.example", "https://a.example?x=1"]
    {
        let error = Config::from_toml(&toml(refused)).unwrap_err().to_string();
        assert!(error.contains("confirm_with") && !error.contains("secretpw"), "{refused}: {error}");
    }
}

/// The default transport over real HTTP on loopback: a server that answers each connection with
/// one canned response, and records the requests it read.
#[cfg(feature = "gateway-api")]
mod http {
    use std::time::Duration;

    use ipn_core::confirm::HttpTransport;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn serve(response: Vec<u8>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = vec![0u8; 16 * 1024];
                let mut read = 0;
                // Headers, then the small JSON body: enough for these tests.
                while read < buffer.len() {
                    let n = socket.read(&mut buffer[read..]).await.unwrap_or(0);
                    read += n;
                    let text = String::from_utf8_lossy(&buffer[..read]);
                    if n == 0 || text.contains("\r\n\r\n") && text.ends_with('}') {
                        break;
                    }
                }
                log.lock().unwrap().push(String::from_utf8_lossy(&buffer[..read]).into_owned());
                let _ = socket.write_all(&response).await;
                let _ = socket.shutdown().await;
            }
        });
        (url, seen)
    }

    fn http_response(status: &str, extra: &str, body: &str) -> Vec<u8> {
        format!("HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            .into_bytes()
    }

    fn verifier_for(url: &str) -> Verifier {
        let keys = Keys::builder().shop(shop().confirm_with(GatewayApi::new(url).unwrap())).build().unwrap();
        Verifier::new(keys).gateway_transport(HttpTransport::with_timeout(Duration::from_secs(5)).unwrap())
    }

    #[tokio::test]
    async fn the_default_transport_posts_the_call_and_reads_the_answer() {
        let request = ipn(FormTemplate::Accepted);
        let fixture = Transport::default();
        fixture.knows(&request, "AUTHORISED");
        let uuid = FormBuilder::from_request(&request).unwrap().get("vads_trans_uuid").unwrap().to_owned();
        let record = fixture.0.records.lock().unwrap()[&uuid].clone();
        let body = json!({"status": "SUCCESS", "answer": record, "mode": "TEST"}).to_string();
        let (url, seen) = serve(http_response("200 OK", "Content-Type: application/json\r\n", &body)).await;
        verifier_for(&url).verify(request.view()).await.unwrap();
        let sent = seen.lock().unwrap()[0].to_ascii_lowercase();
        assert!(sent.starts_with("post /api-payment/v4/transaction/get http/1.1"), "{sent}");
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SHOP}:{TEST_PASSWORD}"));
        assert!(sent.contains(&format!("authorization: basic {}", basic.to_ascii_lowercase())), "{sent}");
        assert!(sent.contains("content-type: application/json"), "{sent}");
    }

    #[tokio::test]
    async fn redirects_oversized_answers_and_closed_ports_are_unavailable_not_followed() {
        let request = ipn(FormTemplate::Accepted);
        let fixture = Transport::default();
        fixture.knows(&request, "AUTHORISED");
        let uuid = FormBuilder::from_request(&request).unwrap().get("vads_trans_uuid").unwrap().to_owned();
        let record = fixture.0.records.lock().unwrap()[&uuid].clone();
        let genuine = json!({"status": "SUCCESS", "answer": record}).to_string();
        let (elsewhere, elsewhere_seen) = serve(http_response("200 OK", "", &genuine)).await;
        let redirect = http_response("307 Temporary Redirect", &format!("Location: {elsewhere}/steal\r\n"), "");
        // A genuine answer, but past the bound: refused before it is all read.
        let padding = "x".repeat(300 * 1024);
        let huge = json!({"status": "SUCCESS", "answer": record, "padding": padding}).to_string();
        for response in [redirect, http_response("200 OK", "", &huge)] {
            let (url, _) = serve(response).await;
            let error = verifier_for(&url).verify(request.view()).await.unwrap_err();
            assert!(matches!(error, Error::ConfirmationUnavailable { .. }), "{error}");
        }
        assert!(elsewhere_seen.lock().unwrap().is_empty(), "the password must not follow a redirect");

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let error = verifier_for(&url).verify(request.view()).await.unwrap_err();
        assert!(matches!(error, Error::ConfirmationUnavailable { .. }), "{error}");
        assert!(!error.to_string().contains(TEST_PASSWORD));
    }
}
