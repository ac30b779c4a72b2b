//! The worst link requests an attacker can send without any key (repeated components, many
//! parameters, a huge signature header, many instances of a header, a long components list),
//! through the core and through both adapters (the apps of `support`, as in `parity.rs`): each is
//! refused with the error its bound names, both adapters answer the same reply, and the bytes the
//! request makes the process allocate stay in proportion to its size.
//!
//! Times are not asserted here (the host is shared and noisy);
//! `cargo run --release -p ipn-core --example link_worst_case` measures them. `--nocapture`
//! prints what each case allocated.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::alloc::System;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ipn_core::link::{self, LinkBound, MAX_SIGNATURE_HEADER_LEN, MAX_SIGNING_STRING_LEN};
use ipn_core::{Error, FixedClock, Keys, Outcome, Receiver, Reply, RequestView, Verifier};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use support::{Answer, Body, Case, Handler, actix_answer, tower_answer};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The allocator counts every thread: each test of this file holds this lock from its first line,
/// so that none builds its requests while another measures.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

const APP: &str = "fbab3ccc-719e-11ed-93ad-02420a0003c1";
const SECRET: &str = "app!secret-bounds";
const DATE: &str = "Thu, 01 Dec 2022 19:08:22 GMT";
const BODY: &str = r#"{"id":"63a3","invoice":{"id":"INV-42","totalAmount":{"amount":150.75,"currency":"XOF"}},"result":{"status":"COMPLETED"}}"#;
/// A well-formed signature (base64 of 32 bytes) that is not the right one.
const FORGED: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const SIGNED: &str = "(request-target) content-type date digest";

fn verifier() -> Verifier {
    let keys = Keys::builder().application(APP, SECRET).build().unwrap();
    Verifier::new(keys).clock(FixedClock::from_http_date(DATE).unwrap())
}

fn receiver() -> Receiver {
    Receiver::new(verifier())
}

fn header(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_owned(), value.into())
}

/// `Content-Type`, `Date`, `Digest`, then `extra`.
fn headers_with(extra: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut headers = vec![
        header("Content-Type", "application/json"),
        header("Date", DATE),
        header("Digest", link::digest_header(BODY.as_bytes())),
    ];
    headers.extend(extra);
    headers
}

/// `Signature` parameters over `components`, with a forged signature and `more` parameters.
fn forged(components: &str, key_id: &str, more: &str) -> String {
    format!(r#"keyId="{key_id}",algorithm="hmac-sha256",headers="{components}",signature="{FORGED}"{more}"#)
}

/// A request with `extra` headers and a forged `Signature` over `components`.
fn request(extra: Vec<(String, String)>, components: &str) -> Vec<(String, String)> {
    let mut headers = headers_with(extra);
    headers.push(header("Signature", forged(components, APP, "")));
    headers
}

fn size(headers: &[(String, String)]) -> usize {
    headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>() + BODY.len()
}

fn is_bound(bound: LinkBound) -> impl Fn(&Error) -> bool {
    move |error| matches!(error, Error::LinkBound(b) if *b == bound)
}

/// What the core's verification of `headers` allocates at most: the request's size again (a
/// joined header, a signing string no longer than the headers it is built from), plus 32 KiB.
fn core_budget(size: usize) -> usize {
    2 * size + 32 * 1024
}

/// What an adapter allocates at most for the same request: the framework's copy of the request
/// (header map, body buffer) and a fresh app per case, besides the core's share.
fn adapter_budget(size: usize) -> usize {
    8 * size + 2 * 1024 * 1024
}

/// Verifies `headers` in the core (the error must satisfy `expected`), then sends them through
/// both adapters (both must answer the core's reply); checks what each allocates. The caller
/// holds [`serial`].
/// The link notification `BODY` with `headers`, posted to the middleware-wrapped route.
fn link_case(name: &str, receiver: Receiver, headers: Vec<(String, String)>, expected: Reply) -> Case {
    Case {
        name: name.to_owned(),
        receiver,
        wrapped: true,
        handler: Handler::Success,
        method: "POST".to_owned(),
        target: "/ipn/link".to_owned(),
        headers,
        body: Body::Sized(BODY.as_bytes().to_vec()),
        expected,
    }
}

fn assert_refused(name: &str, receiver: Receiver, headers: Vec<(String, String)>, expected: impl Fn(&Error) -> bool) {
    let size = size(&headers);
    let region = Region::new(GLOBAL);
    let rejected =
        pollster::block_on(receiver.receive(RequestView::new("POST", "/ipn/link", &headers, BODY.as_bytes())))
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
    let allocated = region.change().bytes_allocated;
    assert!(expected(&rejected.error), "{name}: {:?}", rejected.error);
    assert!(allocated <= core_budget(size), "{name}: the core allocated {allocated} bytes for {size}");
    let expected = Answer::expected(&rejected.reply);
    assert_eq!(rejected.reply.status(), Reply::for_outcome(rejected.error.outcome()).status());

    let case = link_case(name, receiver, headers, rejected.reply);
    actix_web::rt::System::new().block_on(async {
        let region = Region::new(GLOBAL);
        let tower = tower_answer(&case).await;
        let tower_allocated = region.change().bytes_allocated;
        let region = Region::new(GLOBAL);
        let actix = actix_answer(&case).await;
        let actix_allocated = region.change().bytes_allocated;
        assert_eq!(tower, expected, "{name}: tower");
        assert_eq!(actix, expected, "{name}: actix");
        eprintln!(
            "{name}: {size} bytes; allocated: core {allocated}, tower {tower_allocated}, actix {actix_allocated}"
        );
        for (adapter, allocated) in [("tower", tower_allocated), ("actix", actix_allocated)] {
            assert!(allocated <= adapter_budget(size), "{name}: {adapter} allocated {allocated} bytes for {size}");
        }
    });
}

fn malformed(error: &Error) -> bool {
    error.outcome() == Outcome::Malformed
}

#[test]
fn rejects_repeated_signature_components() {
    let _serial = serial();
    assert_refused(
        "date twice",
        receiver(),
        request(vec![], &format!("{SIGNED} date")),
        is_bound(LinkBound::RepeatedComponent),
    );
    assert_refused(
        "digest twice in another case",
        receiver(),
        request(vec![], &format!("{SIGNED} DIGEST")),
        is_bound(LinkBound::RepeatedComponent),
    );
    // A 64 KiB header listed 600 times: a 38 MB signing string if it were built.
    let components = format!("{SIGNED}{}", " x-pad".repeat(600));
    assert!(forged(&components, APP, "").len() <= MAX_SIGNATURE_HEADER_LEN);
    assert_refused(
        "a 64 KiB header listed 600 times",
        receiver(),
        request(vec![header("X-Pad", "a".repeat(64 * 1024))], &components),
        is_bound(LinkBound::RepeatedComponent),
    );
}

#[test]
fn rejects_more_signature_parameters_than_the_cap() {
    let _serial = serial();
    let unknown = |n: usize| (0..n).map(|i| format!(",p{i}=1")).collect::<String>();
    let with = |more: &str| headers_with(vec![header("Signature", forged(SIGNED, APP, more))]);
    // Four known and twelve unknown: within the cap, the forged signature is then checked.
    assert_refused("16 parameters", receiver(), with(&unknown(12)), |e| matches!(e, Error::SignatureMismatch));
    assert_refused("17 parameters", receiver(), with(&unknown(13)), is_bound(LinkBound::Parameters));
    // 10,000 parameters are refused for the header's length, before any is parsed.
    assert_refused(
        "10,000 parameters",
        receiver(),
        with(&unknown(10_000)),
        is_bound(LinkBound::HeaderLength { header: "Signature" }),
    );
    // A repeated unknown parameter is still an error.
    assert_refused("a repeated unknown parameter", receiver(), with(",x=1,x=2"), malformed);
}

#[test]
fn rejects_signature_headers_longer_than_the_cap() {
    let _serial = serial();
    let with_key = |key_id: &str| headers_with(vec![header("Signature", forged(SIGNED, key_id, ""))]);
    let padding = MAX_SIGNATURE_HEADER_LEN - forged(SIGNED, "", "").len();
    assert_refused("a Signature header at the cap", receiver(), with_key(&"k".repeat(padding)), |e| {
        matches!(e, Error::UnknownApplication { .. })
    });
    assert_refused(
        "a Signature header one byte over the cap",
        receiver(),
        with_key(&"k".repeat(padding + 1)),
        is_bound(LinkBound::HeaderLength { header: "Signature" }),
    );
    assert_refused(
        "a 200 KB keyId",
        receiver(),
        with_key(&"k".repeat(200_000)),
        is_bound(LinkBound::HeaderLength { header: "Signature" }),
    );
    let authorization = format!("Signature {}", forged(SIGNED, &"k".repeat(200_000), ""));
    assert_refused(
        "a 200 KB Authorization header",
        receiver(),
        headers_with(vec![header("Authorization", authorization)]),
        is_bound(LinkBound::HeaderLength { header: "Authorization" }),
    );
}

#[test]
fn rejects_more_signed_components_than_the_cap() {
    let _serial = serial();
    let listing = |n: usize| {
        let names: Vec<String> = (0..n).map(|i| format!("x-h{i}")).collect();
        let extra = names.iter().map(|name| header(name, "v".repeat(100))).collect();
        request(extra, &format!("{SIGNED} {}", names.join(" ")))
    };
    assert_refused("32 components", receiver(), listing(28), |e| matches!(e, Error::SignatureMismatch));
    assert_refused("33 components", receiver(), listing(29), is_bound(LinkBound::Components));
    // A list of 3,000 present headers is refused for its length.
    assert_refused(
        "3,000 components",
        receiver(),
        listing(3_000),
        is_bound(LinkBound::HeaderLength { header: "Signature" }),
    );
}

#[test]
fn bounds_the_signing_string_built_from_many_header_instances() {
    let _serial = serial();
    // 5,000 instances of a signed 100-byte header: a 510 KB line.
    let instances = vec![header("X-A", "v".repeat(100)); 5_000];
    assert_refused(
        "5,000 instances of a signed header",
        receiver(),
        request(instances, &format!("{SIGNED} x-a")),
        is_bound(LinkBound::SigningString),
    );
    // 3,000 instances of the right digest: each is checked, then the digest line is too long.
    let digests = vec![header("Digest", link::digest_header(BODY.as_bytes())); 3_000];
    assert_refused("3,000 Digest headers", receiver(), request(digests, SIGNED), is_bound(LinkBound::SigningString));
    // 5,000 one-byte instances join into a 15 KB line, within the bound: the HMAC is checked.
    let small = vec![header("X-A", "1"); 5_000];
    const { assert!(5_000 * 3 < MAX_SIGNING_STRING_LEN) };
    assert_refused("5,000 one-byte instances", receiver(), request(small, &format!("{SIGNED} x-a")), |e| {
        matches!(e, Error::SignatureMismatch)
    });
}

#[test]
fn checks_algorithm_date_key_and_digest_before_building_the_signing_string() {
    let _serial = serial();
    // A signed 12 KiB header: building the signing string would allocate more than the core
    // may for the refusals below, which must come first.
    let big = || header("X-Big", "b".repeat(12 * 1024));
    let components = format!("{SIGNED} x-big");
    let cheap = |error: &Error| {
        matches!(
            error,
            Error::UnsupportedAlgorithm { .. }
                | Error::StaleRequest { .. }
                | Error::UnknownApplication { .. }
                | Error::DigestMismatch
        )
    };
    let check = |name: &str, receiver: Receiver, headers: Vec<(String, String)>| {
        let region = Region::new(GLOBAL);
        let view = RequestView::new("POST", "/ipn/link", &headers, BODY.as_bytes());
        let error = pollster::block_on(receiver.receive(view)).err().unwrap().error;
        let allocated = region.change().bytes_allocated;
        assert!(cheap(&error), "{name}: {error:?}");
        assert!(allocated < 8 * 1024, "{name}: {allocated} bytes allocated before refusing");
    };
    let sha512 = forged(&components, APP, "").replace("hmac-sha256", "hmac-sha512");
    check("another algorithm", receiver(), headers_with(vec![big(), header("Signature", sha512)]));
    let later = FixedClock::from_http_date("Thu, 01 Dec 2022 20:08:22 GMT").unwrap();
    check("a stale date", Receiver::new(verifier().clock(later)), request(vec![big()], &components));
    let stranger = forged(&components, "another-application", "");
    check("an unknown key", receiver(), headers_with(vec![big(), header("Signature", stranger)]));
    let mut headers = request(vec![big()], &components);
    headers[2].1 = link::digest_header(b"another body");
    check("another body's digest", receiver(), headers);
}

#[test]
fn a_request_at_every_bound_is_verified_by_both_adapters() {
    let _serial = serial();
    // 32 components, 16 parameters, a signing string just under its bound, genuinely signed.
    let names: Vec<String> = (0..28).map(|i| format!("x-h{i}")).collect();
    let per_header = (MAX_SIGNING_STRING_LEN - 400) / names.len() - "x-h00: \n".len();
    let mut headers = headers_with(names.iter().map(|name| header(name, "v".repeat(per_header))).collect());
    let components: Vec<&str> = SIGNED.split(' ').chain(names.iter().map(String::as_str)).collect();
    let view = RequestView::new("POST", "/ipn/link", &headers, BODY.as_bytes());
    let signing_string = link::signing_string(view, &components).unwrap();
    assert!(signing_string.len() > MAX_SIGNING_STRING_LEN - 1024 && signing_string.len() <= MAX_SIGNING_STRING_LEN);
    let signature = link::sign(view, APP, SECRET.as_bytes(), &components).unwrap();
    let more: String = (0..12).map(|i| format!(",p{i}=1")).collect();
    headers.push(header("Signature", format!("{signature}{more}")));
    let view = RequestView::new("POST", "/ipn/link", &headers, BODY.as_bytes());
    pollster::block_on(receiver().receive(view)).unwrap();

    let case = link_case("at every bound", receiver(), headers, Reply::order_updated());
    actix_web::rt::System::new().block_on(async {
        let expected = Answer::expected(&Reply::order_updated());
        assert_eq!(tower_answer(&case).await, expected, "tower");
        assert_eq!(actix_answer(&case).await, expected, "actix");
    });
}
