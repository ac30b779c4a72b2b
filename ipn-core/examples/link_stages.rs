//! Times the stages of a link (CentralBill) verification (a profiling aid).
//!
//! `STAGE=link N=2000 valgrind --tool=callgrind target/release/examples/link_stages` runs the
//! whole verification only; compare two values of `N` to subtract the set-up.
#![allow(missing_docs, clippy::unwrap_used)]
use std::hint::black_box;
use std::time::Instant;

use ipn_core::link::{self, SignatureParams};
use ipn_core::{FixedClock, Keys, RequestView, Verifier};

fn time(name: &str, n: u32, mut f: impl FnMut()) {
    // `STAGE=name` runs the stages whose name starts with it (for instruction counts).
    if std::env::var("STAGE").is_ok_and(|only| !name.starts_with(&only)) {
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
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/link-ipn-completed.json"))
            .unwrap(),
    )
    .unwrap();
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
    let n = std::env::var("N").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);

    time("floor", n, || {
        use hmac::Mac;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(black_box(body.as_bytes()));
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        m.update(black_box(signing.as_bytes()));
        black_box((digest, m.finalize()));
    });
    time("params", n, || {
        black_box(SignatureParams::parse(black_box(&signature_header)).unwrap());
    });
    let params = SignatureParams::parse(&signature_header).unwrap();
    time("signing_string", n, || {
        let view = RequestView::new("POST", "/ipn/link", &headers, black_box(body.as_bytes()));
        black_box(link::signing_string(view, params.components()).unwrap());
    });
    time("http_date", n, || {
        black_box(link::parse_http_date(black_box(now)).unwrap());
    });
    let mut verify = || {
        let view = RequestView::new("POST", "/ipn/link", &headers, black_box(body.as_bytes()));
        black_box(pollster::block_on(verifier.verify(view)).unwrap());
    };
    time("link verify", n, &mut verify);

    // On a shared machine: floor and verify in alternating batches, the fastest batch of each
    // (what the load did not disturb).
    if std::env::var("STAGE").is_ok_and(|only| only != "ratio") {
        return;
    }
    let mut floor = || {
        use hmac::Mac;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(black_box(body.as_bytes()));
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        m.update(black_box(signing.as_bytes()));
        black_box((digest, m.finalize()));
    };
    let batch = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..500 {
            f();
        }
        t.elapsed().as_nanos() as f64 / 500.0
    };
    let (mut best_floor, mut best_verify) = (f64::MAX, f64::MAX);
    for _ in 0..400 {
        best_floor = best_floor.min(batch(&mut floor));
        best_verify = best_verify.min(batch(&mut verify));
    }
    println!(
        "ratio (best batches)     floor {best_floor:.0} ns, verify {best_verify:.0} ns, {:.2}x",
        best_verify / best_floor
    );
}
