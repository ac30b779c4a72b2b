//! Times each stage of a form, a REST and a link verification (a profiling aid).
//!
//! `STAGE=name` runs the stage named `name` only (`STAGE=prefix*` those starting with `prefix`); `N` sets the number of
//! iterations. Under callgrind, compare two values of `N` to subtract the setup.
#![allow(missing_docs, clippy::unwrap_used)]
use std::hint::black_box;
use std::time::Instant;

use ipn_core::form::FormFields;
use ipn_core::link::{self, SignatureParams};
use ipn_core::{FixedClock, Keys, Mode, RequestView, ShopKeys, Verifier};

fn time(name: &str, n: u32, mut f: impl FnMut()) {
    // `STAGE=name` runs one stage only (for instruction counts under callgrind); `STAGE=prefix*`
    // the stages whose name starts with `prefix`.
    let selected = |only: String| match only.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == only,
    };
    if std::env::var("STAGE").is_ok_and(|only| !selected(only)) {
        return;
    }
    for _ in 0..n / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    println!("{name:<24} {:>8.0} ns", t.elapsed().as_nanos() as f64 / f64::from(n));
}

fn vector(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/vectors/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn main() {
    let n = std::env::var("N").ok().and_then(|n| n.parse().ok()).unwrap_or(200_000);
    form(n);
    rest(n);
    link(n);
}

fn form(n: u32) {
    let v = vector("form-ipn-pay-accepted");
    let body = v["request"]["body"].as_str().unwrap().to_owned();
    let signing = v["expect"]["signing_string"].as_str().unwrap().to_owned();
    let keys =
        Keys::builder().shop(ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788")).build().unwrap();
    let verifier = Verifier::new(keys);
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    time("hmac floor", n, || {
        use hmac::Mac;
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(b"1122334455667788").unwrap();
        m.update(black_box(signing.as_bytes()));
        black_box(m.finalize());
    });
    time("FormFields::parse", n, || {
        black_box(FormFields::parse(black_box(body.as_bytes())).unwrap());
    });
    // The same fields in a scrambled order (the gateway sends them sorted descending).
    let mut pairs: Vec<&str> = body.split('&').collect();
    let len = pairs.len();
    for i in 0..len {
        pairs.swap(i, (i * 37 + 11) % len);
    }
    let shuffled = pairs.join("&");
    time("FormFields::parse shuffled", n, || {
        black_box(FormFields::parse(black_box(shuffled.as_bytes())).unwrap());
    });
    let fields = FormFields::parse(body.as_bytes()).unwrap();
    time("sign (hmac, streamed)", n, || {
        black_box(ipn_core::form::sign(fields.iter(), b"1122334455667788", ipn_core::FormAlgorithm::HmacSha256));
    });
    let notification =
        pollster::block_on(verifier.verify(RequestView::new("POST", "/ipn", &headers, body.as_bytes()))).unwrap();
    time("fingerprint", n, || {
        black_box(black_box(&notification).fingerprint());
    });
    time("verify total", n, || {
        let view = RequestView::new("POST", "/ipn", &headers, black_box(body.as_bytes()));
        black_box(pollster::block_on(verifier.verify(view)).unwrap());
    });
}

/// The REST vector (3.5 KiB answer): floor, JSON validation alone, form decoding, the whole
/// verification. What the REST code costs after decoding is `rest` minus `rest-decode`.
fn rest(n: u32) {
    let v = vector("rest-ipn-password");
    let body = v["request"]["body"].as_str().unwrap().to_owned();
    let password = v["config"]["shops"][0]["rest"]["test_password"].as_str().unwrap().to_owned();
    let keys =
        Keys::builder().shop(ShopKeys::new("69876357").rest_password(Mode::Test, password.as_str())).build().unwrap();
    let verifier = Verifier::new(keys);
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let fields = FormFields::parse(body.as_bytes()).unwrap();
    let answer = fields.get("kr-answer").unwrap().to_owned();
    time("rest-floor", n, || {
        use hmac::Mac;
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(password.as_bytes()).unwrap();
        m.update(black_box(answer.as_bytes()));
        black_box(m.finalize());
    });
    // What validating the answer costs with serde_json alone: the floor of any reading of it.
    time("rest-validate", n, || {
        black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(&answer)).unwrap());
    });
    time("rest-decode", n, || {
        black_box(FormFields::parse(black_box(body.as_bytes())).unwrap());
    });
    time("rest", n, || {
        let view = RequestView::new("POST", "/ipn", &headers, black_box(body.as_bytes()));
        black_box(pollster::block_on(verifier.verify(view)).unwrap());
    });
}

fn link(n: u32) {
    let v = vector("link-ipn-completed");
    let request = &v["request"];
    let body = request["body"].as_str().unwrap().to_owned();
    let headers: Vec<(String, String)> = request["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap().to_owned(), h[1].as_str().unwrap().to_owned()))
        .collect();
    let signing = v["expect"]["signing_string"].as_str().unwrap().to_owned();
    let app = &v["config"]["applications"][0];
    let secret = app["secret"].as_str().unwrap().to_owned();
    let keys = Keys::builder().application(app["application_id"].as_str().unwrap(), secret.as_str()).build().unwrap();
    let now = v["config"]["now"].as_str().unwrap();
    let verifier = Verifier::new(keys).clock(FixedClock::from_http_date(now).unwrap());
    let signature_header = headers.iter().find(|(n, _)| n == "signature").unwrap().1.clone();
    time("link-floor", n, || {
        use hmac::Mac;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(black_box(body.as_bytes()));
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        m.update(black_box(signing.as_bytes()));
        black_box((digest, m.finalize()));
    });
    time("link-params", n, || {
        black_box(SignatureParams::parse(black_box(&signature_header)).unwrap());
    });
    let params = SignatureParams::parse(&signature_header).unwrap();
    time("link-signing-string", n, || {
        let view = RequestView::new("POST", "/ipn/link", &headers, black_box(body.as_bytes()));
        black_box(link::signing_string(view, params.components()).unwrap());
    });
    time("link-http-date", n, || {
        black_box(link::parse_http_date(black_box(now)).unwrap());
    });
    time("link", n, || {
        let view = RequestView::new("POST", "/ipn/link", &headers, black_box(body.as_bytes()));
        black_box(pollster::block_on(verifier.verify(view)).unwrap());
    });
}
