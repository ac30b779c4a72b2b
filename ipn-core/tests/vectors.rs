//! The public conformance vectors (copied from `shared/vectors/`), run through the public API:
//! verdicts, typed fields, signing strings and signatures.

#![allow(clippy::unwrap_used, missing_docs)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipn_core::{Endpoint, FixedClock, FormAlgorithm, Keys, Mode, Notification, RequestView, ShopKeys, Verifier};
use serde_json::Value;

fn vectors() -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut out: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let v: Value = serde_json::from_str(&fs::read_to_string(&p).unwrap()).unwrap();
            (p, v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 17, "the vectors are missing from {}", dir.display());
    out
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The vector's `config` as in-memory keys.
fn keys(config: &Value) -> Keys {
    let mut builder = Keys::builder();
    for shop in config.get("shops").and_then(Value::as_array).into_iter().flatten() {
        let mut keys = ShopKeys::new(str_of(shop, "shop_id").unwrap());
        if let Some(form) = shop.get("form") {
            if let Some(k) = str_of(form, "test_key") {
                keys = keys.form_key(Mode::Test, k);
            }
            if let Some(k) = str_of(form, "production_key") {
                keys = keys.form_key(Mode::Production, k);
            }
            if str_of(form, "algorithm") == Some("sha1") {
                keys = keys.form_algorithm(FormAlgorithm::Sha1);
            }
        }
        if let Some(rest) = shop.get("rest") {
            for (name, mode) in [("test", Mode::Test), ("production", Mode::Production)] {
                if let Some(k) = str_of(rest, &format!("{name}_password")) {
                    keys = keys.rest_password(mode, k);
                }
                if let Some(k) = str_of(rest, &format!("{name}_hmac_key")) {
                    keys = keys.rest_hmac_key(mode, k);
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

fn verifier(vector: &Value) -> Verifier {
    let config = &vector["config"];
    let endpoint = match str_of(&vector["expect"], "endpoint") {
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
    verifier
}

fn verify(vector: &Value) -> Result<Notification, ipn_core::Error> {
    let request = &vector["request"];
    let headers: Vec<(String, String)> = request["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap().to_owned(), h[1].as_str().unwrap().to_owned()))
        .collect();
    let (method, target) = (str_of(request, "method").unwrap(), str_of(request, "target").unwrap());
    let body = str_of(request, "body").unwrap();
    let verifier = verifier(vector);
    let result = pollster::block_on(verifier.verify(RequestView::new(method, target, &headers, body.as_bytes())));
    // The same request over a shared buffer, which the notification borrows: the same outcome.
    let shared = bytes::Bytes::copy_from_slice(body.as_bytes());
    let from_shared = pollster::block_on(verifier.verify(RequestView::shared(method, target, &headers, &shared)));
    let id = str_of(vector, "id").unwrap();
    assert_eq!(format!("{result:?}"), format!("{from_shared:?}"), "{id}");
    // And the text it keeps is the buffer's own.
    let kept = match &from_shared {
        Ok(Notification::Form(form)) => Some(form.shop_id()),
        Ok(Notification::Link(link)) => Some(link.body()),
        _ => None,
    };
    if let Some(text) = kept.filter(|text| !text.is_empty()) {
        assert!(shared.as_ptr_range().contains(&text.as_ptr()), "{id}: copied");
    }
    result
}

/// The value the typed notification exposes for a wire field name of `expect.fields`.
fn field(notification: &Notification, name: &str) -> Option<Value> {
    match notification {
        Notification::Form(n) => n.get(name).map(|v| Value::String(v.to_owned())),
        Notification::Rest(n) => {
            let text = |s: &str| Value::String(s.to_owned());
            let first = n.payment().transactions().first();
            match name {
                "shopId" => Some(text(n.shop_id())),
                "orderStatus" => n.payment().order_status().map(|s| text(s.as_str())),
                "orderId" => n.order_id().map(text),
                "uuid" => n.transaction_id().map(text),
                "amount" => n.amount().and_then(|a| a.to_minor()).map(Value::from),
                "currency" => n.amount().map(|a| text(a.currency().code())),
                "detailedStatus" => first.and_then(|t| t.detailed_status()).map(|s| text(s.as_str())),
                _ => None,
            }
        }
        Notification::Link(n) => match name {
            "id" => Some(n.id()),
            "result.status" => Some(n.status().as_str()),
            _ => None,
        }
        .map(|v| Value::String(v.to_owned())),
        _ => None,
    }
}

fn check_request_case(id: &str, vector: &Value) {
    let expect = &vector["expect"];
    let valid = expect["valid"].as_bool().unwrap();
    let result = verify(vector);
    match (&result, valid) {
        (Ok(notification), true) => {
            for (name, expected) in expect.get("fields").and_then(Value::as_object).into_iter().flatten() {
                let actual = field(notification, name).unwrap_or(Value::Null);
                assert_eq!(&actual, expected, "{id}: field {name}");
            }
        }
        (Err(_), false) => {}
        (Ok(_), false) => panic!("{id}: accepted, but the vector expects a rejection"),
        (Err(e), true) => panic!("{id}: rejected ({e}), but the vector expects it valid"),
    }
    if vector["scheme"] == "form" && valid {
        let Ok(Notification::Form(n)) = &result else { unreachable!() };
        let key = match n.mode() {
            Mode::Test => vector["config"]["shops"][0]["form"]["test_key"].as_str().unwrap(),
            Mode::Production => vector["config"]["shops"][0]["form"]["production_key"].as_str().unwrap(),
        };
        let signing_string = format!("{}{key}", ipn_core::form::signing_payload(n.fields()));
        assert_eq!(signing_string, str_of(expect, "signing_string").unwrap(), "{id}: signing string");
        assert_eq!(n.get("signature"), str_of(expect, "signature"), "{id}: signature");
    }
    if vector["scheme"] == "link" && valid {
        let request = &vector["request"];
        let headers: Vec<(&str, &str)> = request["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h[0].as_str().unwrap(), h[1].as_str().unwrap()))
            .collect();
        let view = RequestView::new(
            str_of(request, "method").unwrap(),
            str_of(request, "target").unwrap(),
            &headers,
            str_of(request, "body").unwrap().as_bytes(),
        );
        let params =
            ipn_core::link::SignatureParams::parse(std::str::from_utf8(view.header("signature").unwrap()).unwrap())
                .unwrap();
        let signing_string = ipn_core::link::signing_string(view, params.components()).unwrap();
        assert_eq!(signing_string, str_of(expect, "signing_string").unwrap(), "{id}: signing string");
        let secret = vector["config"]["applications"][0]["secret"].as_str().unwrap();
        let signature = ipn_core::link::signature(&signing_string, secret.as_bytes());
        assert_eq!(Some(signature.as_str()), str_of(expect, "signature"), "{id}: signature");
    }
}

#[test]
fn every_public_vector() {
    let mut ran = 0;
    for (_, vector) in vectors() {
        let id = str_of(&vector, "id").unwrap().to_owned();
        let scheme = str_of(&vector, "scheme").unwrap();
        let expect = &vector["expect"];
        match scheme {
            "form" | "rest" | "link" => check_request_case(&id, &vector),
            "form-signature" => {
                let fields: Vec<(&str, &str)> = vector["fields"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                    .collect();
                let key = str_of(&vector, "key").unwrap().as_bytes();
                let parsed = ipn_core::form::FormFields::parse(
                    fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&").as_bytes(),
                )
                .unwrap();
                let signing_string =
                    format!("{}{}", ipn_core::form::signing_payload(&parsed), str_of(&vector, "key").unwrap());
                assert_eq!(signing_string, str_of(expect, "signing_string").unwrap(), "{id}");
                assert_eq!(
                    ipn_core::form::sign(fields.clone(), key, FormAlgorithm::Sha1),
                    str_of(expect, "sha1").unwrap()
                );
                assert_eq!(
                    ipn_core::form::sign(fields, key, FormAlgorithm::HmacSha256),
                    str_of(expect, "hmac-sha256").unwrap()
                );
            }
            "rest-hash" => {
                let hash = ipn_core::rest::kr_hash(
                    str_of(&vector, "answer").unwrap(),
                    str_of(&vector, "key").unwrap().as_bytes(),
                );
                assert_eq!(hash, str_of(expect, "kr_hash").unwrap(), "{id}");
            }
            "cavage-signing-string" => {
                let signature = ipn_core::link::signature(
                    str_of(&vector, "signing_string").unwrap(),
                    str_of(&vector, "secret").unwrap().as_bytes(),
                );
                assert_eq!(signature, str_of(expect, "signature").unwrap(), "{id}");
            }
            "rfc9421" => {
                use base64::Engine as _;
                let request = &vector["request"];
                let headers: Vec<(&str, &str)> = request["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| (h[0].as_str().unwrap(), h[1].as_str().unwrap()))
                    .collect();
                let view = RequestView::new(
                    str_of(request, "method").unwrap(),
                    str_of(request, "target").unwrap(),
                    &headers,
                    str_of(request, "body").unwrap().as_bytes(),
                );
                let input = std::str::from_utf8(view.header("signature-input").unwrap()).unwrap();
                let label = input.split('=').next().unwrap();
                let base = ipn_core::link::rfc9421_signature_base(view, label).unwrap();
                assert_eq!(base, str_of(expect, "signature_base").unwrap(), "{id}: signature base");
                let secret = base64::engine::general_purpose::STANDARD
                    .decode(str_of(&vector, "secret_base64").unwrap())
                    .unwrap();
                let verdict = ipn_core::link::rfc9421_verify(view, label, &[ipn_core::Secret::new(secret)]);
                assert_eq!(verdict.is_ok(), expect["valid"].as_bool().unwrap(), "{id}: {verdict:?}");
            }
            other => panic!("{id}: unknown scheme {other}"),
        }
        ran += 1;
    }
    assert!(ran >= 9, "only {ran} vectors ran");
}
