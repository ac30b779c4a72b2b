//! `ipn explain`: the computed values, the key slot, and the hint that names the mistake; never
//! a key.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::Value;

fn vector(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors_dir().join(format!("{name}.json"))).unwrap()).unwrap()
}

/// Runs explain on a (possibly modified) vector request; returns (exit code, text).
fn explain(v: &Value, config: &str, extra: &[&str], request: &Value) -> (Option<i32>, String) {
    let dir = TempDir::new("explain");
    let request = dir.write("r.http", raw_request(request));
    let config = dir.write("ipn.toml", config);
    let mut args = vec!["explain", "--config", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(request.to_str().unwrap());
    let output = ipn(&args);
    let text = stdout(&output);
    for secret in v["config"]["shops"].as_array().into_iter().flatten().flat_map(|s| {
        ["form", "rest"].into_iter().filter_map(move |k| s.get(k)).flat_map(|t| {
            t.as_object()
                .unwrap()
                .iter()
                .filter(|(name, _)| *name != "algorithm")
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        })
    }) {
        let secret = secret.as_str().unwrap();
        assert!(!text.contains(secret), "a key was printed: {text}");
    }
    for app in v["config"]["applications"].as_array().into_iter().flatten() {
        assert!(!text.contains(app["secret"].as_str().unwrap()), "a secret was printed: {text}");
    }
    (output.status.code(), text)
}

#[test]
fn names_a_production_notification_signed_with_the_test_key() {
    let v = vector("form-ipn-wrong-mode-key");
    let (code, text) = explain(&v, &toml_config(&v["config"]), &[], &v["request"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("REJECTED: signature mismatch"), "{text}");
    assert!(text.contains("key slot tried: form PRODUCTION key of shop 12345678"), "{text}");
    assert!(text.contains("MATCH with the TEST key"), "{text}");
    assert!(text.contains("swapped"), "{text}");
    assert!(text.contains("<form PRODUCTION key of shop 12345678>"), "signing string with the key masked: {text}");
    assert!(text.contains("received signature: \"3V8FNacKwETg/XKNMyFkyWC7I2mI1/1sio4aeSucYco=\""), "{text}");
    assert!(text.contains("expected signature (key #1)"), "{text}");
}

#[test]
fn a_valid_notification_is_said_valid_without_hints() {
    let v = vector("form-ipn-pay-accepted");
    let (code, text) = explain(&v, &toml_config(&v["config"]), &[], &v["request"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verdict: VALID form notification (payment)"), "{text}");
    assert!(!text.contains("hint:"), "{text}");
}

#[test]
fn names_a_sha1_signature_for_a_shop_configured_for_hmac() {
    let v = vector("form-ipn-sha1");
    let config = toml_config(&v["config"]).replace("\"sha1\"", "\"hmac-sha256\"");
    let (code, text) = explain(&v, &config, &[], &v["request"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("MATCH with sha1"), "{text}");
    assert!(text.contains("algorithm = \"sha1\""), "{text}");
}

#[test]
fn names_the_rest_hmac_key_used_where_the_password_is_expected() {
    let v = vector("rest-return-hmac-key");
    let (code, text) = explain(&v, &toml_config(&v["config"]), &[], &v["request"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("key slot tried: REST TEST password of shop 69876357"), "{text}");
    assert!(text.contains("MATCH with the REST TEST HMAC-SHA-256 key"), "{text}");
    assert!(text.contains("--endpoint return"), "{text}");
    let (code, _) = explain(&v, &toml_config(&v["config"]), &["--endpoint", "return"], &v["request"]);
    assert_eq!(code, Some(0));
}

#[test]
fn names_a_stripped_digest_a_re_encoded_body_and_clock_skew() {
    let v = vector("link-ipn-completed");
    let config = toml_config(&v["config"]);
    let now = v["config"]["now"].as_str().unwrap();

    let mut stripped = v["request"].clone();
    stripped["headers"].as_array_mut().unwrap().retain(|h| h[0] != "digest");
    let (code, text) = explain(&v, &config, &["--now", now], &stripped);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("stripped"), "{text}");

    let mut pretty = v["request"].clone();
    let body: Value = serde_json::from_str(v["request"]["body"].as_str().unwrap()).unwrap();
    pretty["body"] = Value::String(serde_json::to_string_pretty(&body).unwrap());
    let original: Value = serde_json::from_str(pretty["body"].as_str().unwrap()).unwrap();
    assert_eq!(original, body);
    let (code, text) = explain(&v, &config, &["--now", now], &pretty);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("Digest: SHA-256="), "{text}");
    assert!(text.contains("re-encoded") || text.contains("changed after signing"), "{text}");

    let (code, text) = explain(&v, &config, &[], &v["request"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("outside the window"), "{text}");
    assert!(text.contains("--now"), "{text}");
    assert!(text.contains("signing string (HMAC-SHA-256 with <secret of application"), "{text}");
}
