//! Form notifications: `application/x-www-form-urlencoded` decoding, the signing string, and,
//! because the target signs what it decoded, the typing of `vads_*` fields behind the signature.
//! A self-signed body must never be refused for its signature.
#![no_main]

use ipn_core::form::{self, FormFields};
use ipn_core::{Error, FormAlgorithm, RequestView};
use ipn_fuzz::{KEY, verifier, verify};
use libfuzzer_sys::fuzz_target;

const HEADERS: [(&str, &str); 1] = [("Content-Type", "application/x-www-form-urlencoded")];

fuzz_target!(|data: &[u8]| {
    let algorithm = if data.len() % 7 == 3 { FormAlgorithm::Sha1 } else { FormAlgorithm::HmacSha256 };
    let verifier = verifier(algorithm, false);
    let borrowed = verify(&verifier, RequestView::new("POST", "/ipn", &HEADERS, data));
    // The same bytes in a shared buffer, which the notification borrows: the same outcome.
    let shared = bytes::Bytes::copy_from_slice(data);
    let from_shared = verify(&verifier, RequestView::shared("POST", "/ipn", &HEADERS, &shared));
    assert_eq!(format!("{borrowed:?}"), format!("{from_shared:?}"));

    let Ok(fields) = FormFields::parse(data) else { return };
    let _ = (form::signing_payload(&fields), fields.len(), fields.iter().count(), format!("{fields:?}"));
    if fields.contains("signature") || fields.with_prefix(form::SIGNED_PREFIX).next().is_none() {
        return;
    }
    let signature = form::sign(fields.iter(), KEY, algorithm);
    let mut body = data.to_vec();
    body.extend_from_slice(b"&signature=");
    body.extend(form_urlencoded::byte_serialize(signature.as_bytes()).flat_map(str::bytes));
    let result = verify(&verifier, RequestView::new("POST", "/ipn", &HEADERS, &body));
    assert!(
        !matches!(result, Err(Error::SignatureMismatch | Error::Sha1NotAllowed)),
        "a self-signed form body was refused: {result:?}"
    );
});
