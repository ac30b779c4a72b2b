//! REST notifications: the `kr-*` fields as received, and, because the target signs its input as
//! a `kr-answer`, the JSON typing behind the signature (shop id, mode, payment, transactions).
//! A self-signed answer must never be refused for its signature.
#![no_main]

use ipn_core::{Error, FormAlgorithm, RequestView};
use ipn_fuzz::{KEY, verifier, verify};
use libfuzzer_sys::fuzz_target;

const HEADERS: [(&str, &str); 1] = [("Content-Type", "application/x-www-form-urlencoded")];

fuzz_target!(|data: &[u8]| {
    let verifier = verifier(FormAlgorithm::HmacSha256, false);
    let _ = verify(&verifier, RequestView::new("POST", "/ipn", &HEADERS, data));

    let answer = String::from_utf8_lossy(data);
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("kr-hash", &ipn_core::rest::kr_hash(&answer, KEY))
        .append_pair("kr-hash-algorithm", "sha256_hmac")
        .append_pair("kr-hash-key", "password")
        .append_pair("kr-answer-type", "V4/Payment")
        .append_pair("kr-answer", &answer)
        .append_pair("kr-src", "PAY")
        .finish();
    let result = verify(&verifier, RequestView::new("POST", "/ipn", &HEADERS, body.as_bytes()));
    assert!(!matches!(result, Err(Error::SignatureMismatch)), "a self-signed kr-answer was refused: {result:?}");
});
