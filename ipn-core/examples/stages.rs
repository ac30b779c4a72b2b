//! Times each stage of a form, a REST and a link verification (a profiling aid).
//!
//! `STAGE=name` runs the stage named `name` only (`STAGE=prefix*` those starting with `prefix`); `N` sets the number of
//! iterations. Under callgrind, compare two values of `N` to subtract the setup.
#![allow(missing_docs, clippy::unwrap_used)]
use std::hint::black_box;
use std::time::Instant;

use ipn_core::form::FormFields;
use ipn_core::link::{self, SignatureParams};

#[path = "../benches/fixtures/mod.rs"]
mod fixtures;
use fixtures::Fixture;

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

fn main() {
    let n = std::env::var("N").ok().and_then(|n| n.parse().ok()).unwrap_or(200_000);
    form(n);
    form_issue_sized(n);
    rest(n);
    link(n);
}

fn form(n: u32) {
    let f = Fixture::form();
    let body = &f.body;
    time("hmac floor", n, || {
        black_box(f.floor());
    });
    time("hmac floor keyed", n, || {
        black_box(f.floor_keyed());
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
        black_box(ipn_core::form::sign(fields.iter(), f.secret.as_bytes(), ipn_core::FormAlgorithm::HmacSha256));
    });
    let notification = f.verify();
    time("fingerprint", n, || {
        black_box(black_box(&notification).fingerprint());
    });
    time("verify total", n, || {
        black_box(f.verify());
    });
    time("verify borrowed body", n, || {
        black_box(f.verify_borrowed());
    });
}

/// The form IPN at the issue's size (62 fields, 2.1 KB): its floors and its verification.
fn form_issue_sized(n: u32) {
    let f = Fixture::form_issue_sized();
    time("form_2k floor", n, || {
        black_box(f.floor());
    });
    time("form_2k floor keyed", n, || {
        black_box(f.floor_keyed());
    });
    time("form_2k verify", n, || {
        black_box(f.verify());
    });
}

/// The REST vector (3.5 KiB answer): floor, JSON validation alone, form decoding, the whole
/// verification. What the REST code costs after decoding is `rest` minus `rest-decode`.
fn rest(n: u32) {
    let f = Fixture::rest();
    time("rest-floor", n, || {
        black_box(f.floor());
    });
    time("rest-floor keyed", n, || {
        black_box(f.floor_keyed());
    });
    // What validating the answer costs with serde_json alone: the floor of any reading of it.
    time("rest-validate", n, || {
        black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(&f.signed)).unwrap());
    });
    time("rest-decode", n, || {
        black_box(FormFields::parse(black_box(f.body.as_bytes())).unwrap());
    });
    time("rest", n, || {
        black_box(f.verify());
    });
}

fn link(n: u32) {
    let f = Fixture::link();
    let signature_header = f.header("signature");
    time("link-floor", n, || {
        black_box(f.floor());
    });
    time("link-floor keyed", n, || {
        black_box(f.floor_keyed());
    });
    time("link-params", n, || {
        black_box(SignatureParams::parse(black_box(signature_header)).unwrap());
    });
    let params = SignatureParams::parse(signature_header).unwrap();
    time("link-signing-string", n, || {
        black_box(link::signing_string(f.view(black_box(f.body.as_bytes())), params.components()).unwrap());
    });
    let date = f.header("date");
    time("link-http-date", n, || {
        black_box(link::parse_http_date(black_box(date)).unwrap());
    });
    time("link", n, || {
        black_box(f.verify());
    });
}
