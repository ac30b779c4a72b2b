//! Verify-and-parse per scheme, beside its physical floor (one HMAC-SHA-256 over the same signed
//! bytes) and a naive implementation, in one group so the ratios come from one run.
//!
//! `cargo bench -p ipn-core --bench verify`

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use ipn_core::{Keys, Mode, RequestView, ShopKeys, Verifier};
use sha2::Sha256;

const FORM_KEY: &str = "1122334455667788";

fn vector(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/vectors/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The naive pipeline: decode into a list, filter and sort the `vads_*` pairs, join, HMAC,
/// base64, compare strings.
fn naive_form_verify(body: &[u8], key: &str) -> bool {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let mut signed: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k.starts_with("vads_")).collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut string = signed.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join("+");
    string.push('+');
    string.push_str(key);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(string.as_bytes());
    let computed = BASE64.encode(mac.finalize().into_bytes());
    pairs.iter().any(|(k, v)| k == "signature" && *v == computed)
}

fn form(c: &mut Criterion) {
    let v = vector("form-ipn-pay-accepted");
    let body = v["request"]["body"].as_str().unwrap().to_owned();
    let signing_string = v["expect"]["signing_string"].as_str().unwrap().to_owned();
    let keys = Keys::builder().shop(ShopKeys::new("12345678").form_key(Mode::Test, FORM_KEY)).build().unwrap();
    let verifier = Verifier::new(keys);
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    assert!(naive_form_verify(body.as_bytes(), FORM_KEY));
    assert!(pollster::block_on(verifier.verify(RequestView::new("POST", "/ipn", &headers, body.as_bytes()))).is_ok());

    let mut group = c.benchmark_group("form");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("floor_hmac_signing_string", |b| {
        b.iter(|| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(FORM_KEY.as_bytes()).unwrap();
            mac.update(black_box(signing_string.as_bytes()));
            black_box(mac.finalize().into_bytes())
        })
    });
    group.bench_function("verify_and_parse", |b| {
        b.iter(|| {
            let view = RequestView::new("POST", "/ipn", &headers, black_box(body.as_bytes()));
            black_box(pollster::block_on(verifier.verify(view)).unwrap())
        })
    });
    group.bench_function("naive", |b| b.iter(|| black_box(naive_form_verify(black_box(body.as_bytes()), FORM_KEY))));
    group.finish();
}

/// A REST answer (3.5 KiB) signed with the shop's REST password.
fn rest(c: &mut Criterion) {
    let v = vector("rest-ipn-password");
    let body = v["request"]["body"].as_str().unwrap().to_owned();
    let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let answer = fields.iter().find(|(k, _)| k == "kr-answer").unwrap().1.clone();
    let password = v["config"]["shops"][0]["rest"]["test_password"].as_str().unwrap().to_owned();
    let keys =
        Keys::builder().shop(ShopKeys::new("69876357").rest_password(Mode::Test, password.as_str())).build().unwrap();
    let verifier = Verifier::new(keys);
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    assert!(pollster::block_on(verifier.verify(RequestView::new("POST", "/ipn", &headers, body.as_bytes()))).is_ok());

    let mut group = c.benchmark_group("rest");
    group.throughput(Throughput::Bytes(answer.len() as u64));
    group.bench_function("floor_hmac_answer", |b| {
        b.iter(|| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(password.as_bytes()).unwrap();
            mac.update(black_box(answer.as_bytes()));
            black_box(mac.finalize().into_bytes())
        })
    });
    group.bench_function("verify_and_parse", |b| {
        b.iter(|| {
            let view = RequestView::new("POST", "/ipn", &headers, black_box(body.as_bytes()));
            black_box(pollster::block_on(verifier.verify(view)).unwrap())
        })
    });
    group.bench_function("naive", |b| {
        b.iter(|| {
            let pairs: Vec<(String, String)> =
                form_urlencoded::parse(black_box(body.as_bytes())).into_owned().collect();
            let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap();
            let message = get("kr-answer").replace("\\/", "/");
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(password.as_bytes()).unwrap();
            mac.update(message.as_bytes());
            assert_eq!(hex::encode(mac.finalize().into_bytes()), get("kr-hash"));
            black_box(serde_json::from_str::<serde_json::Value>(get("kr-answer")).unwrap())
        })
    });
    group.finish();
}

/// A CentralBill notification (1 KiB JSON) with Date, Digest and Signature.
fn link(c: &mut Criterion) {
    let v = vector("link-ipn-completed");
    let request = &v["request"];
    let body = request["body"].as_str().unwrap().to_owned();
    let headers: Vec<(String, String)> = request["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap().to_owned(), h[1].as_str().unwrap().to_owned()))
        .collect();
    let signing_string = v["expect"]["signing_string"].as_str().unwrap().to_owned();
    let app = &v["config"]["applications"][0];
    let secret = app["secret"].as_str().unwrap().to_owned();
    let keys = Keys::builder().application(app["application_id"].as_str().unwrap(), secret.as_str()).build().unwrap();
    let clock = ipn_core::FixedClock::from_http_date(v["config"]["now"].as_str().unwrap()).unwrap();
    let verifier = Verifier::new(keys).clock(clock);
    assert!(
        pollster::block_on(verifier.verify(RequestView::new("POST", "/ipn/link", &headers, body.as_bytes()))).is_ok()
    );

    let mut group = c.benchmark_group("link");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("floor_hmac_and_body_digest", |b| {
        b.iter(|| {
            use sha2::Digest;
            let digest = Sha256::digest(black_box(body.as_bytes()));
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(black_box(signing_string.as_bytes()));
            black_box((digest, mac.finalize().into_bytes()))
        })
    });
    group.bench_function("verify_and_parse", |b| {
        b.iter(|| {
            let view = RequestView::new("POST", "/ipn/link", &headers, black_box(body.as_bytes()));
            black_box(pollster::block_on(verifier.verify(view)).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, form, rest, link);
criterion_main!(benches);
