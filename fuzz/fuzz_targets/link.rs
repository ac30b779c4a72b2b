//! Link notifications: the `Signature` / `Authorization` parameters, the signing string, RFC 9421
//! `Signature-Input`, `Digest` / `Content-Digest`, `Date`; and, because the target re-signs the
//! request with the parameters it received, the JSON typing behind the signature. A re-signed
//! request must never be refused for its signature.
#![no_main]

use ipn_core::link::{self, SignatureParams};
use ipn_core::{Error, FormAlgorithm, Secret};
use ipn_fuzz::{KEY, Split, verifier, verify};
use libfuzzer_sys::fuzz_target;

fn params(value: &[u8], authorization: bool) -> Option<SignatureParams> {
    let value = std::str::from_utf8(value).ok()?;
    if authorization { SignatureParams::parse_authorization(value)?.ok() } else { SignatureParams::parse(value).ok() }
}

fuzz_target!(|data: &[u8]| {
    let Some(mut request) = Split::parse(data) else { return };
    let secrets = [Secret::new(KEY)];
    for (name, value) in &request.headers {
        if let Ok(text) = std::str::from_utf8(value) {
            let _ = link::parse_http_date(text);
            let _ = SignatureParams::parse_authorization(text);
            if let Ok(p) = SignatureParams::parse(text) {
                let _ = (p.key_id(), p.algorithm(), p.signature(), p.covers("date"));
                let _ = link::signing_string(request.view(), p.components());
            }
        }
        let _ = name;
    }
    let _ = link::rfc9421_signature_base(request.view(), "sig1");
    let _ = link::rfc9421_key_id(request.view(), "sig1");
    let _ = link::rfc9421_verify(request.view(), "sig1", &secrets);
    let _ = verify(&verifier(FormAlgorithm::HmacSha256, false), request.view());

    // Re-sign with the received parameters: everything after the HMAC becomes reachable.
    let signature = request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("signature")).map(|(_, v)| v.clone());
    let Some(received) = signature.and_then(|v| params(&v, false)) else { return };
    let components = received.components().to_vec();
    if components.iter().any(|c| c.eq_ignore_ascii_case("signature") || c.eq_ignore_ascii_case("authorization")) {
        return;
    }
    let Ok(signing_string) = link::signing_string(request.view(), &components) else { return };
    let Ok(header) = link::signature_header(received.key_id(), &components, &link::signature(&signing_string, KEY))
    else {
        return;
    };
    let authorization =
        request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("authorization")).map(|(_, v)| v.clone());
    if authorization.is_some_and(|v| params(&v, true).is_some()) {
        request.set_header("Authorization", Some(format!("Signature {header}").into_bytes()));
    }
    request.set_header("Signature", Some(header.into_bytes()));
    let result = verify(&verifier(FormAlgorithm::HmacSha256, true), request.view());
    assert!(!matches!(result, Err(Error::SignatureMismatch)), "a re-signed link request was refused: {result:?}");
});
