//! Shared by the integration tests: the conformance vectors (read from ipn-core's copy), the
//! handlers that record what reached them, and a helper that sends a request and checks the
//! reply's shape.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)] // test support: each test uses a part; a panic is a failure

use std::path::Path;
use std::sync::Mutex;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, Service, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::test::{self, TestRequest};
use actix_web::web::{self, Bytes};
use futures_util::Stream;
use ipn_actix::ipn_core::{FormAlgorithm, FormNotification, Keys, Mode, Notification, RestNotification, ShopKeys};
use ipn_actix::{Ipn, IpnError, IpnReply};
use serde_json::Value;

/// One `form` conformance vector.
#[derive(Debug, Clone)]
pub struct Vector {
    pub id: String,
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub keys: Keys,
    pub valid: bool,
    /// `expect.fields`: wire name and value.
    pub fields: Vec<(String, String)>,
}

impl Vector {
    /// The vector's request, with `Content-Length`.
    pub fn request(&self) -> TestRequest {
        self.request_without_body().set_payload(self.body.clone())
    }

    /// The vector's method, target and headers, no body.
    pub fn request_without_body(&self) -> TestRequest {
        let method = self.method.parse().unwrap();
        let mut request = TestRequest::default().method(method).uri(&self.target);
        for (name, value) in &self.headers {
            request = request.insert_header((name.as_str(), value.as_str()));
        }
        request
    }

    /// The path of the target (routes are declared on it).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }
}

fn vectors_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../ipn-core/tests/vectors"))
}

/// Every vector of the `form` scheme (whole requests), sorted by id.
pub fn form_vectors() -> Vec<Vector> {
    let mut vectors = Vec::new();
    for entry in std::fs::read_dir(vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if !(name.starts_with("form-") && name.ends_with(".json")) {
            continue;
        }
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if json["scheme"] == "form" {
            vectors.push(parse_vector(&json));
        }
    }
    vectors.sort_by(|a, b| a.id.cmp(&b.id));
    vectors
}

/// The `form` vector with this id.
pub fn form_vector(id: &str) -> Vector {
    form_vectors().into_iter().find(|v| v.id == id).unwrap()
}

fn parse_vector(json: &Value) -> Vector {
    let request = &json["request"];
    let headers = request["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_owned(), pair[1].as_str().unwrap().to_owned()))
        .collect();
    let fields = json["expect"]
        .get("fields")
        .and_then(Value::as_object)
        .map(|fields| fields.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect())
        .unwrap_or_default();
    Vector {
        id: json["id"].as_str().unwrap().to_owned(),
        method: request["method"].as_str().unwrap().to_owned(),
        target: request["target"].as_str().unwrap().to_owned(),
        headers,
        body: request["body"].as_str().unwrap().to_owned(),
        keys: keys_from_config(&json["config"]),
        valid: json["expect"]["valid"].as_bool().unwrap(),
        fields,
    }
}

/// `config.shops[]` as an in-memory key store.
fn keys_from_config(config: &Value) -> Keys {
    let mut keys = Keys::builder();
    for shop in config["shops"].as_array().unwrap() {
        let mut shop_keys = ShopKeys::new(shop["shop_id"].as_str().unwrap());
        if let Some(form) = shop.get("form") {
            if let Some(key) = form.get("test_key").and_then(Value::as_str) {
                shop_keys = shop_keys.form_key(Mode::Test, key);
            }
            if let Some(key) = form.get("production_key").and_then(Value::as_str) {
                shop_keys = shop_keys.form_key(Mode::Production, key);
            }
            let algorithm = match form.get("algorithm").and_then(Value::as_str) {
                None | Some("hmac-sha256") => FormAlgorithm::HmacSha256,
                Some("sha1") => FormAlgorithm::Sha1,
                Some(other) => panic!("unknown algorithm {other}"),
            };
            shop_keys = shop_keys.form_algorithm(algorithm);
        }
        // The vectors are TEST notifications, and their configurations predate the opt-in: read
        // them as saying `accept_test_mode = true` unless they say otherwise.
        shop_keys = shop_keys.accept_test_mode(shop.get("accept_test_mode").and_then(Value::as_bool).unwrap_or(true));
        keys = keys.shop(shop_keys);
    }
    keys.build().unwrap()
}

/// What reached the handlers.
#[derive(Debug, Default)]
pub struct Seen {
    pub notifications: Mutex<Vec<Notification>>,
    pub bodies: Mutex<Vec<Bytes>>,
}

impl Seen {
    pub fn data() -> web::Data<Seen> {
        web::Data::new(Seen::default())
    }

    pub fn calls(&self) -> usize {
        self.notifications.lock().unwrap().len()
    }
}

/// Records the notification and answers `200 Order successfully updated.`
pub async fn record(Ipn(notification): Ipn<Notification>, seen: web::Data<Seen>) -> IpnReply {
    seen.notifications.lock().unwrap().push(notification);
    IpnReply::order_updated()
}

/// Records the notification and answers `200 Notification already processed.`
pub async fn duplicate(Ipn(notification): Ipn<Notification>, seen: web::Data<Seen>) -> IpnReply {
    seen.notifications.lock().unwrap().push(notification);
    IpnReply::already_processed()
}

/// Records the notification, then fails as a database would.
pub async fn fail(Ipn(notification): Ipn<Notification>, seen: web::Data<Seen>) -> Result<IpnReply, IpnError> {
    seen.notifications.lock().unwrap().push(notification);
    Err(std::io::Error::other("database unavailable"))?
}

/// Reads the typed form notification and the raw body.
pub async fn raw(Ipn(form): Ipn<FormNotification>, body: Bytes, seen: web::Data<Seen>) -> IpnReply {
    seen.notifications.lock().unwrap().push(Notification::Form(form));
    seen.bodies.lock().unwrap().push(body);
    IpnReply::order_updated()
}

/// Asks for a REST notification.
pub async fn rest_only(Ipn(rest): Ipn<RestNotification>, seen: web::Data<Seen>) -> IpnReply {
    seen.notifications.lock().unwrap().push(Notification::Rest(rest));
    IpnReply::order_updated()
}

/// A reply as the gateway sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends a request and returns the reply, checking the shape every IPN reply has: plain text,
/// at most 256 bytes.
pub async fn send<S, R, B>(app: &S, request: R) -> Answer
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request).await;
    let status = response.status().as_u16();
    let content_type = response.headers().get(CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    assert_eq!(content_type.as_deref(), Some("text/plain; charset=utf-8"), "{status} {body}");
    assert!(body.len() <= 256, "{status} {body}");
    Answer { status, body }
}

/// An expected reply.
pub fn answer(status: u16, body: &str) -> Answer {
    Answer { status, body: body.to_owned() }
}

/// A streamed payload (no `Content-Length`, as with chunked transfer encoding).
pub fn stream_payload(chunks: impl Stream<Item = Result<Bytes, PayloadError>> + 'static) -> Payload {
    Payload::Stream { payload: Box::pin(chunks) }
}
