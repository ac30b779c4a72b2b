//! One case matrix, run against both adapters: each case is built as an axum app (`ipn-tower`)
//! and an actix-web app (`ipn-actix`), the same request is sent to both, and both must answer the
//! same status, `content-type` and body, which must also be the case's expected reply.
//!
//! Setup of the two apps, chosen so that every request reaches the middleware:
//! - axum: `Router::new().route(path, post(handler).layer(IpnLayer))`. `MethodRouter::layer`
//!   wraps the method router's fallback too, so a GET is answered by the layer (405 with the IPN
//!   reply), as in actix. (`route_layer` would leave GET to axum's own empty 405.)
//! - actix: `web::resource(path).wrap(IpnMiddleware).route(web::post().to(handler))`.
//!
//! Bodies are sent either whole with `Content-Length`, or streamed without it (axum
//! `Body::from_stream`, actix `Payload::Stream`), optionally breaking mid-stream. The two apps
//! are built in `support/mod.rs`, shared with `link_bounds.rs` and `test_mode_default.rs`.
//!
//! The public vectors are those holding a notification request (`form`, `rest`, `link`); the
//! `rfc9421` vector is a signature-base case, not a notification, and the other kinds hold no
//! request.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use ipn_core::{Endpoint, FixedClock, FormAlgorithm, Keys, Mode, Outcome, Receiver, Reply, ShopKeys, Verifier};
use serde_json::Value;
use support::{Answer, Body, Case, Handler, actix_answer, core_reply, tower_answer};

// ---------------------------------------------------------------------------------------------
// Vectors

fn vectors_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../ipn-core/tests/vectors"))
}

/// Every public vector holding a notification request, sorted by file name.
fn request_vectors() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = fs::read_dir(vectors_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let json: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
            (path.file_stem().unwrap().to_str().unwrap().to_owned(), json)
        })
        .filter(|(_, json)| matches!(json["scheme"].as_str(), Some("form" | "rest" | "link")))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn vector(id: &str) -> Value {
    request_vectors().into_iter().find(|(name, _)| name == id).unwrap().1
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// The vector's `config` as in-memory keys.
fn keys(config: &Value) -> Keys {
    let mut builder = Keys::builder();
    for shop in config.get("shops").and_then(Value::as_array).into_iter().flatten() {
        let mut keys = ShopKeys::new(str_of(shop, "shop_id").unwrap());
        if let Some(form) = shop.get("form") {
            if let Some(key) = str_of(form, "test_key") {
                keys = keys.form_key(Mode::Test, key);
            }
            if let Some(key) = str_of(form, "production_key") {
                keys = keys.form_key(Mode::Production, key);
            }
            if str_of(form, "algorithm") == Some("sha1") {
                keys = keys.form_algorithm(FormAlgorithm::Sha1);
            }
        }
        if let Some(rest) = shop.get("rest") {
            for (name, mode) in [("test", Mode::Test), ("production", Mode::Production)] {
                if let Some(key) = str_of(rest, &format!("{name}_password")) {
                    keys = keys.rest_password(mode, key);
                }
                if let Some(key) = str_of(rest, &format!("{name}_hmac_key")) {
                    keys = keys.rest_hmac_key(mode, key);
                }
            }
        }
        // The vectors are TEST notifications, and their configurations predate the opt-in: read
        // them as saying `accept_test_mode = true` unless they say otherwise.
        keys = keys.accept_test_mode(shop.get("accept_test_mode").and_then(Value::as_bool).unwrap_or(true));
        builder = builder.shop(keys);
    }
    for app in config.get("applications").and_then(Value::as_array).into_iter().flatten() {
        builder = builder.application(str_of(app, "application_id").unwrap(), str_of(app, "secret").unwrap());
    }
    builder.build().unwrap()
}

/// A plain receiver (default replies, no store) over `receiver`'s verifier changed by `change`.
fn reverify(receiver: &Receiver, change: impl FnOnce(Verifier) -> Verifier) -> Receiver {
    assert!(receiver.notification_store().is_none());
    Receiver::new(change(receiver.verifier().clone()))
}

/// The receiver a vector asks for: its keys, endpoint (`expect.endpoint`), clock (`config.now`)
/// and clock skew.
fn vector_receiver(json: &Value) -> Receiver {
    let config = &json["config"];
    let endpoint = match str_of(&json["expect"], "endpoint") {
        Some("return") => Endpoint::Return,
        _ => Endpoint::Ipn,
    };
    let mut verifier = Verifier::new(keys(config)).endpoint(endpoint);
    if let Some(now) = str_of(config, "now") {
        verifier = verifier.clock(FixedClock::from_http_date(now).unwrap());
    }
    if let Some(skew) = config.get("max_clock_skew_s").and_then(Value::as_u64) {
        verifier = verifier.max_clock_skew(Duration::from_secs(skew));
    }
    Receiver::new(verifier)
}

/// A case sending the vector's request exactly, to a route answering `order_updated`.
fn vector_case(name: &str, json: &Value) -> Case {
    let request = &json["request"];
    let headers = request["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_owned(), pair[1].as_str().unwrap().to_owned()))
        .collect();
    let receiver = vector_receiver(json);
    let mut case = Case {
        name: name.to_owned(),
        receiver,
        wrapped: true,
        handler: Handler::Success,
        method: str_of(request, "method").unwrap().to_owned(),
        target: str_of(request, "target").unwrap().to_owned(),
        headers,
        body: Body::Sized(str_of(request, "body").unwrap().as_bytes().to_vec()),
        expected: Reply::order_updated(),
    };
    case.expected = core_reply(&case, Reply::order_updated());
    case
}

// ---------------------------------------------------------------------------------------------
// The matrix

/// The authentic TEST-mode form notification, as a template for the cases around it.
fn pay_accepted(name: &str) -> Case {
    vector_case(name, &vector("form-ipn-pay-accepted"))
}

fn sized_body(case: &Case) -> Vec<u8> {
    match &case.body {
        Body::Sized(body) => body.clone(),
        Body::Streamed { .. } => panic!("{}: not a sized body", case.name),
    }
}

fn matrix() -> Vec<Case> {
    let mut cases = Vec::new();

    for (id, json) in request_vectors() {
        let case = vector_case(&format!("vector {id}"), &json);
        let valid = json["expect"]["valid"].as_bool().unwrap();
        // The vector's verdict, so the matrix cannot drift from it.
        assert_eq!(case.expected == Reply::order_updated(), valid, "{id}: the core disagrees with the vector");
        cases.push(case);
    }

    let mut case = pay_accepted("handler success is 200 order updated");
    case.expected = Reply::order_updated();
    cases.push(case);

    let mut case = pay_accepted("handler failure is 500 update failed");
    case.handler = Handler::Failure;
    case.expected = Reply::update_failed();
    cases.push(case);

    let mut case = pay_accepted("empty post is 400 POST is empty");
    case.body = Body::Sized(Vec::new());
    case.expected = Reply::for_outcome(Outcome::EmptyPost);
    cases.push(case);

    let mut case = pay_accepted("oversize body with content-length is 413");
    case.receiver = reverify(&case.receiver, |v| v.max_body_bytes(64));
    case.expected = Reply::for_outcome(Outcome::BodyTooLarge);
    cases.push(case);

    let mut case = pay_accepted("oversize streamed body without content-length is 413");
    let chunks = sized_body(&case).chunks(16).map(<[u8]>::to_vec).collect();
    case.body = Body::Streamed { chunks, broken: false };
    case.receiver = reverify(&case.receiver, |v| v.max_body_bytes(64));
    case.expected = Reply::for_outcome(Outcome::BodyTooLarge);
    cases.push(case);

    let mut case = pay_accepted("streamed body within the limit without content-length is verified");
    let chunks = sized_body(&case).chunks(100).map(<[u8]>::to_vec).collect();
    case.body = Body::Streamed { chunks, broken: false };
    cases.push(case);

    let mut case = pay_accepted("body stream broken mid-way is 400 malformed");
    let chunks = vec![sized_body(&case)[..20].to_vec()];
    case.body = Body::Streamed { chunks, broken: true };
    case.expected = Reply::for_outcome(Outcome::Malformed);
    cases.push(case);

    let mut case = pay_accepted("wrong content type is 415");
    for (name, value) in &mut case.headers {
        if name.eq_ignore_ascii_case("content-type") {
            *value = "text/plain".to_owned();
        }
    }
    case.expected = Reply::for_outcome(Outcome::UnsupportedMediaType);
    cases.push(case);

    let mut case = pay_accepted("get is 405 from the middleware");
    case.method = "GET".to_owned();
    case.body = Body::Sized(Vec::new());
    case.headers.clear();
    case.expected = Reply::for_outcome(Outcome::MethodNotAllowed);
    cases.push(case);

    let mut case = pay_accepted("missing middleware is 500 not wrapped");
    case.wrapped = false;
    case.expected = Reply::new(500, "No verified notification: this route is not wrapped by the IPN middleware.");
    cases.push(case);

    let mut case = pay_accepted("a second extractor is 500 already extracted");
    case.handler = Handler::Twice;
    case.expected = Reply::new(500, "The verified notification was already extracted: take it once per handler.");
    cases.push(case);

    let mut case = pay_accepted("form notification to a rest extractor is 400 wrong scheme");
    case.handler = Handler::RestOnly;
    case.expected = Reply::new(400, "This endpoint takes rest notifications; received a form notification.");
    cases.push(case);

    let mut case = pay_accepted("unknown shop is 403");
    case.receiver = Receiver::new(Verifier::new(Keys::default()));
    case.expected = Reply::for_outcome(Outcome::UnknownShop);
    cases.push(case);

    let mut case = pay_accepted("test mode refused is 403");
    case.receiver = reverify(&case.receiver, |v| v.accept_test_mode(false));
    case.expected = Reply::for_outcome(Outcome::TestModeRefused);
    cases.push(case);

    let mut case = pay_accepted("reply override applies to the handler's order updated");
    case.receiver = case.receiver.reply(Outcome::Processed, 200, "OK-Accepted payment, order has been updated.");
    case.expected = Reply::new(200, "OK-Accepted payment, order has been updated.");
    cases.push(case);

    let mut case = pay_accepted("reply override applies to the handler's failure");
    case.receiver = case.receiver.reply(Outcome::ProcessingFailed, 503, "KO-Try again.");
    case.handler = Handler::Failure;
    case.expected = Reply::new(503, "KO-Try again.");
    cases.push(case);

    let mut case = pay_accepted("reply override applies to the middleware's own replies");
    case.receiver = case.receiver.reply(Outcome::EmptyPost, 400, "KO-Empty POST.");
    case.body = Body::Sized(Vec::new());
    case.expected = Reply::new(400, "KO-Empty POST.");
    cases.push(case);

    let mut case = pay_accepted("raw body is readable by the handler");
    case.handler = Handler::RawBody;
    let length = sized_body(&case).len();
    case.expected = Reply::new(200, format!("{length} bytes for ORDER-1042"));
    cases.push(case);

    let mut case = vector_case("valid rest notification at the return endpoint", &vector("rest-return-hmac-key"));
    assert_eq!(case.receiver.verifier().policy().endpoint(), Endpoint::Return);
    case.expected = Reply::order_updated();
    cases.push(case);

    let mut case =
        vector_case("rest browser return posted to the ipn endpoint is refused", &vector("rest-return-hmac-key"));
    case.receiver = reverify(&case.receiver, |v| v.endpoint(Endpoint::Ipn));
    case.expected = core_reply(&case, Reply::order_updated());
    assert!(!case.expected.is_acknowledged(), "{}", case.expected);
    cases.push(case);

    let mut case = vector_case("valid rest notification to the rest extractor", &vector("rest-ipn-password"));
    case.handler = Handler::RestOnly;
    case.expected = Reply::order_updated();
    cases.push(case);

    cases
}

// ---------------------------------------------------------------------------------------------
// Tests

#[actix_web::test]
async fn both_adapters_answer_every_case_of_the_matrix_with_the_same_expected_reply() {
    let cases = matrix();
    let mut failures = Vec::new();
    for case in &cases {
        let expected = Answer::expected(&case.expected);
        let tower = tower_answer(case).await;
        let actix = actix_answer(case).await;
        if tower != actix {
            failures.push(format!("{}: adapters differ\n  tower: {tower:?}\n  actix: {actix:?}", case.name));
        } else if tower != expected {
            failures.push(format!("{}: both answered {tower:?}, expected {expected:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_public_request_vector_is_in_the_matrix_with_both_verdicts() {
    let vectors = request_vectors();
    assert!(vectors.len() >= 13, "the vectors are missing from {}", vectors_dir().display());
    let names: Vec<String> = matrix().into_iter().map(|case| case.name).collect();
    for (id, _) in &vectors {
        assert!(names.contains(&format!("vector {id}")), "{id} is not in the matrix");
    }
    for scheme in ["form", "rest", "link"] {
        for valid in [true, false] {
            let found = vectors.iter().any(|(_, json)| json["scheme"] == scheme && json["expect"]["valid"] == valid);
            // REST has no invalid public request vector; every other scheme has both verdicts.
            assert!(found || (scheme == "rest" && !valid), "no {scheme} vector with valid={valid}");
        }
    }
}

#[test]
fn the_matrix_expects_every_status_the_issue_lists() {
    let statuses: Vec<u16> = matrix().iter().map(|case| case.expected.status()).collect();
    for status in [200, 400, 401, 403, 405, 413, 415, 500] {
        assert!(statuses.contains(&status), "no case expects {status}");
    }
}
