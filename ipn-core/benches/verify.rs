//! Verify-and-parse per scheme, beside its physical floor (one HMAC-SHA-256 over the same signed
//! bytes), the same floor with the key's HMAC state kept (as the verifier keeps it per secret)
//! and a naive implementation, in one group so the ratios come from one run.
//!
//! `cargo bench -p ipn-core --bench verify`

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use ipn_core::testkit::naive_form_check;
use sha2::Sha256;

mod fixtures;
use fixtures::Fixture;

/// A form IPN: the vector (55 fields, 1.6 KB) and the issue's size (62 fields, 2.1 KB); the naive
/// pipeline is the testkit's [`naive_form_check`], which the load benchmark's `naive` route runs
/// too.
fn form(c: &mut Criterion) {
    form_group(c, "form", &Fixture::form());
    form_group(c, "form_2k", &Fixture::form_issue_sized());
}

fn form_group(c: &mut Criterion, name: &str, f: &Fixture) {
    assert!(naive_form_check(f.body.as_bytes(), f.secret.as_bytes()));
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(f.body.len() as u64));
    group.bench_function("floor_hmac_signing_string", |b| b.iter(|| black_box(f.floor())));
    group.bench_function("floor_keyed", |b| b.iter(|| black_box(f.floor_keyed())));
    group.bench_function("verify_and_parse", |b| b.iter(|| black_box(f.verify())));
    group.bench_function("naive", |b| {
        b.iter(|| black_box(naive_form_check(black_box(f.body.as_bytes()), f.secret.as_bytes())))
    });
    group.finish();
}

/// A REST answer (3.5 KiB) signed with the shop's REST password.
fn rest(c: &mut Criterion) {
    let f = Fixture::rest();
    let (body, password) = (&f.body, &f.secret);
    let mut group = c.benchmark_group("rest");
    group.throughput(Throughput::Bytes(f.signed.len() as u64));
    group.bench_function("floor_hmac_answer", |b| b.iter(|| black_box(f.floor())));
    group.bench_function("floor_keyed", |b| b.iter(|| black_box(f.floor_keyed())));
    group.bench_function("verify_and_parse", |b| b.iter(|| black_box(f.verify())));
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

/// A CentralBill notification (635 bytes of JSON) with Date, Digest and Signature.
fn link(c: &mut Criterion) {
    let f = Fixture::link();
    let mut group = c.benchmark_group("link");
    group.throughput(Throughput::Bytes(f.body.len() as u64));
    group.bench_function("floor_hmac_and_body_digest", |b| b.iter(|| black_box(f.floor())));
    group.bench_function("floor_keyed", |b| b.iter(|| black_box(f.floor_keyed())));
    group.bench_function("verify_and_parse", |b| b.iter(|| black_box(f.verify())));
    group.finish();
}

criterion_group!(benches, form, rest, link);
criterion_main!(benches);
