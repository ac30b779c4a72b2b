//! The worst link requests an attacker can send without any key, about 200 KB each (issue 24):
//! for each, the error, the time one verification takes and the bytes it allocates.
//!
//! `cargo run --release -p ipn-core --example link_worst_case [-- --write DIR]`
//!
//! With `--write DIR`, each request is also written as a raw HTTP file for
//! `ipn verify --config examples/axum-shop/demo.toml --now 'Thu, 01 Dec 2022 19:08:22 GMT' FILE`.
#![allow(clippy::unwrap_used)]

use std::alloc::System;
use std::time::{Duration, Instant};

use ipn_core::testkit::RawRequest;
use ipn_core::{FixedClock, Keys, Receiver, Verifier, link};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The demo's application (examples/axum-shop/demo.toml).
const APP: &str = "fbab3ccc-719e-11ed-93ad-02420a0003c1";
const SECRET: &str = "app!secret";
const DATE: &str = "Thu, 01 Dec 2022 19:08:22 GMT";
const BODY: &str = r#"{"id":"63a3","invoice":{"id":"INV-42","totalAmount":{"amount":150.75,"currency":"XOF"}},"result":{"status":"COMPLETED"}}"#;
/// A well-formed signature (base64 of 32 bytes) that is not the right one: the HMAC is computed.
const FORGED: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const SIGNED: &str = "(request-target) content-type date digest";

/// A request carrying `extra` headers and a `Signature` over `components` with extra `parameters`.
fn request(extra: Vec<(String, String)>, components: &str, key_id: &str, parameters: &str) -> RawRequest {
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Date".to_owned(), DATE.to_owned()),
        ("Digest".to_owned(), link::digest_header(BODY.as_bytes())),
    ];
    headers.extend(extra);
    headers.push((
        "Signature".to_owned(),
        format!(r#"keyId="{key_id}",algorithm="hmac-sha256",headers="{components}",signature="{FORGED}"{parameters}"#),
    ));
    RawRequest::new("POST", "/ipn/link", headers, BODY)
}

fn cases() -> Vec<(&'static str, RawRequest)> {
    let header = |name: &str, value: String| (name.to_owned(), value);
    let repeated = format!("{SIGNED}{}", " x-pad".repeat(16_000));
    let parameters: String = (0..40_000).map(|i| format!(",p{i}=1")).collect();
    let names: Vec<String> = (0..240).map(|i| format!("x-h{i}")).collect();
    vec![
        ("repeated-components", request(vec![header("X-Pad", "a".repeat(100_000))], &repeated, APP, "")),
        // The most repeats the Signature header's bound lets through, of a 190 KB header.
        (
            "repeated-within-bound",
            request(vec![header("X-Pad", "a".repeat(190_000))], &format!("{SIGNED}{}", " x-pad".repeat(640)), APP, ""),
        ),
        ("many-parameters", request(vec![], SIGNED, APP, &parameters)),
        ("huge-signature-header", request(vec![], SIGNED, &"k".repeat(200_000), "")),
        (
            "long-components-list",
            request(
                names.iter().map(|n| header(n, "v".repeat(700))).collect(),
                &format!("{SIGNED} {}", names.join(" ")),
                APP,
                "",
            ),
        ),
        (
            "many-header-instances",
            request(vec![header("X-A", "v".repeat(100)); 2_000], &format!("{SIGNED} x-a"), APP, ""),
        ),
        (
            "many-digest-instances",
            request(vec![header("Digest", link::digest_header(BODY.as_bytes())); 3_000], SIGNED, APP, ""),
        ),
        // Within every bound: 32 signed headers (a 16 KB signing string, then the HMAC) among
        // 20,000 others, each signed one looked up among them all.
        (
            "within-every-bound",
            request(
                (0..20_000)
                    .map(|i| header(&format!("x-f{i}"), "1".to_owned()))
                    .chain(names[..28].iter().map(|n| header(n, "v".repeat(560))))
                    .collect(),
                &format!("{SIGNED} {}", names[..28].join(" ")),
                APP,
                "",
            ),
        ),
    ]
}

fn size(request: &RawRequest) -> usize {
    request.to_http(Some("localhost")).len()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let write = match (args.next().as_deref(), args.next()) {
        (Some("--write"), Some(dir)) => Some(std::path::PathBuf::from(dir)),
        _ => None,
    };
    let keys = Keys::builder().application(APP, SECRET).build().unwrap();
    let receiver = Receiver::new(Verifier::new(keys).clock(FixedClock::from_http_date(DATE).unwrap()));
    println!("{:<24} {:>9} {:>12} {:>14}  error", "request", "bytes", "time", "allocated");
    for (name, request) in cases() {
        if let Some(dir) = &write {
            std::fs::write(dir.join(format!("{name}.http")), request.to_http(Some("localhost"))).unwrap();
        }
        let region = Region::new(GLOBAL);
        let error = pollster::block_on(receiver.receive(request.view())).err().map(|r| r.error.to_string());
        let allocated = region.change().bytes_allocated;
        // As many verifications as fit in half a second (at least one), timed together.
        let (started, mut runs) = (Instant::now(), 0_u32);
        while runs == 0 || (started.elapsed() < Duration::from_millis(500) && runs < 100_000) {
            let _ = pollster::block_on(receiver.receive(request.view()));
            runs += 1;
        }
        let per_run = started.elapsed() / runs;
        let mut error = error.unwrap_or_else(|| "accepted".to_owned());
        error.truncate(80);
        println!("{name:<24} {:>9} {:>12?} {:>14}  {error}", size(&request), per_run, allocated);
    }
}
