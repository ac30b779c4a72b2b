//! Differential: sign a notification with the testkit, change one byte anywhere in the request
//! (method, target, a header name or value, the body), verify. When the verifier still accepts,
//! what was signed must be what the sender signed: the decoded `vads_*` signing string, the
//! unescaped `kr-answer`, or the link body and signing string; and the decoded signature. Bytes
//! outside the signed material (`kr-src`, unsigned fields, an `Authorization` that is not a
//! signature) and equivalent encodings (`%3a` for `%3A`, upper-case hex) may change freely.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ipn_core::form::{self, FormFields};
use ipn_core::link::{self, SignatureParams};
use ipn_core::testkit::{DigestStyle, FormBuilder, FormTemplate, LinkBuilder, LinkTemplate, RestBuilder, RestTemplate};
use ipn_core::{Endpoint, FixedClock, FormAlgorithm, Keys, Mode, RequestView, Secret, ShopKeys, Verifier};
use ipn_fuzz::{KEY, NOW, Split};
use libfuzzer_sys::fuzz_target;

const SHOP: &str = "12345678";
const APP: &str = "fbab3ccc-719e-11ed-93ad-02420a0003c1";

fn verifier(algorithm: FormAlgorithm) -> Verifier {
    let keys = Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .form_key(Mode::Test, Secret::new(KEY))
                .form_algorithm(algorithm)
                .rest_password(Mode::Test, Secret::new(KEY))
                .accept_test_mode(true),
        )
        .application(APP, Secret::new(KEY))
        .build()
        .expect("keys");
    Verifier::new(keys).accept_test_mode(true).clock(FixedClock::from_http_date(NOW).expect("date"))
}

fn decoded_signature(text: &str) -> Option<Vec<u8>> {
    if text.len() == 40 || text.len() == 64 { hex::decode(text).ok() } else { BASE64.decode(text).ok() }
}

/// What a form or REST body signs, decoded.
fn form_signed(body: &[u8]) -> Option<(String, Option<Vec<u8>>)> {
    let fields = FormFields::parse(body).ok()?;
    if let Some(answer) = fields.get("kr-answer") {
        let hash = fields.get("kr-hash").and_then(decoded_signature);
        let fixed = ["kr-hash-algorithm", "kr-hash-key"].map(|n| fields.get(n).unwrap_or("<none>").to_owned());
        return Some((format!("{}\n{}", fixed.join("\n"), answer.replace("\\/", "/")), hash));
    }
    Some((form::signing_payload(&fields), fields.get("signature").and_then(decoded_signature)))
}

/// What a link request signs: per signature, the key id, the signing string and the signature.
fn link_signed(request: RequestView<'_>) -> Vec<(String, String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    for name in ["signature", "authorization"] {
        for value in request.header_values(name) {
            let Ok(text) = std::str::from_utf8(value) else { continue };
            let params = if name == "signature" {
                SignatureParams::parse(text).ok()
            } else {
                SignatureParams::parse_authorization(text).and_then(Result::ok)
            };
            let Some(p) = params else { continue };
            let signing_string = link::signing_string(request, p.components()).unwrap_or_default();
            out.push((p.key_id().to_owned(), signing_string, decoded_signature(p.signature())));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [selector, variant, p0, p1, p2, byte, ..] = *data else { return };
    let position = u32::from_le_bytes([p0, p1, p2, 0]) as usize;
    let at = time::OffsetDateTime::from_unix_timestamp(1_669_921_702).expect("instant");
    let algorithm = if variant & 1 == 1 { FormAlgorithm::Sha1 } else { FormAlgorithm::HmacSha256 };
    let signed = match selector % 3 {
        0 => {
            let template = FormTemplate::ALL[usize::from(variant >> 1) % FormTemplate::ALL.len()];
            FormBuilder::at(template, SHOP, at).sign(KEY, algorithm)
        }
        1 => {
            let template = RestTemplate::ALL[usize::from(variant >> 1) % RestTemplate::ALL.len()];
            RestBuilder::new(template, SHOP).src(Some("PAY")).escape_slashes(variant & 2 == 2).sign(KEY, Endpoint::Ipn)
        }
        _ => {
            let template = LinkTemplate::ALL[usize::from(variant >> 2) % LinkTemplate::ALL.len()];
            let digest = [DigestStyle::Rfc3230, DigestStyle::HexBase64, DigestStyle::ContentDigest]
                [usize::from(selector / 3) % 3];
            let builder = LinkBuilder::new(template, APP).date(at).digest(digest).with_authorization(variant & 2 == 2);
            builder.sign(KEY).expect("sign")
        }
    };
    let original = Split {
        method: signed.method().to_owned(),
        target: signed.target().to_owned(),
        headers: signed.headers().iter().map(|(n, v)| (n.clone(), v.clone().into_bytes())).collect(),
        body: signed.body().to_vec(),
    };
    let verifier = verifier(algorithm);
    assert!(pollster::block_on(verifier.verify(original.view())).is_ok(), "the testkit's request must verify");

    // One byte changed, anywhere.
    let mut segments: Vec<Vec<u8>> = vec![original.method.clone().into_bytes(), original.target.clone().into_bytes()];
    for (name, value) in &original.headers {
        segments.push(name.clone().into_bytes());
        segments.push(value.clone());
    }
    segments.push(original.body.clone());
    let total: usize = segments.iter().map(Vec::len).sum();
    let mut position = position % total;
    let segment = segments.iter().position(|s| {
        if position < s.len() {
            return true;
        }
        position -= s.len();
        false
    });
    let Some(segment) = segment else { return };
    if segments[segment][position] == byte {
        return;
    }
    segments[segment][position] = byte;
    let text = |bytes: &Vec<u8>| String::from_utf8(bytes.clone()).ok();
    let (Some(method), Some(target)) = (text(&segments[0]), text(&segments[1])) else { return };
    let mut headers = Vec::new();
    for pair in segments[2..segments.len() - 1].chunks(2) {
        let Some(name) = text(&pair[0]) else { return };
        headers.push((name, pair[1].clone()));
    }
    let mutated = Split { method, target, headers, body: segments[segments.len() - 1].clone() };

    let Ok(notification) = pollster::block_on(verifier.verify(mutated.view())) else { return };
    let _ = notification.fingerprint();
    if selector % 3 == 2 {
        assert_eq!(mutated.body, original.body, "accepted a link request with another body");
        let (before, after) = (link_signed(original.view()), link_signed(mutated.view()));
        assert!(!after.is_empty() && after.iter().all(|s| s == &before[0]), "accepted other signed material");
    } else {
        let before = form_signed(&original.body).expect("original decodes");
        assert_eq!(form_signed(&mutated.body), Some(before), "accepted other signed material");
    }
});
