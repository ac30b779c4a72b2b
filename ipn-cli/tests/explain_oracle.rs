//! `ipn explain` is no signing oracle: shown a tampered notification, it prints a few characters
//! of the signature it computes and whether the received one matches, never the whole value
//! (unless told to with `--reveal-signature`), so nothing in its output verifies when submitted
//! again. Keys are masked where they sit in the signing string, not by searching the text: a
//! field holding a key is printed as received and confirms nothing.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::BTreeSet;

use common::*;
use ipn_core::FormAlgorithm;
use serde_json::Value;

fn vector(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors_dir().join(format!("{name}.json"))).unwrap()).unwrap()
}

/// The vector's configuration, TEST notifications accepted (the vectors are TEST ones), so that
/// a rejection below is the signature's and not the mode's.
fn config(v: &Value) -> String {
    let mut config = v["config"].clone();
    for shop in config["shops"].as_array_mut().into_iter().flatten() {
        shop["accept_test_mode"] = Value::Bool(true);
    }
    toml_config(&config)
}

/// Runs `ipn COMMAND --config .. EXTRA.. REQUEST`; returns (exit code, stdout).
fn run(command: &str, config: &str, extra: &[&str], request: &Value) -> (Option<i32>, String) {
    let dir = TempDir::new("explain-oracle");
    let request = dir.write("r.http", raw_request(request));
    let config = dir.write("ipn.toml", config);
    let mut args = vec![command, "--config", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(request.to_str().unwrap());
    let output = ipn(&args);
    (output.status.code(), format!("{}{}", stdout(&output), stderr(&output)))
}

fn with_body(request: &Value, body: String) -> Value {
    let mut out = request.clone();
    out["body"] = Value::String(body);
    out
}

fn form_body(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn form_pairs(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes()).map(|(n, v)| (n.into_owned(), v.into_owned())).collect()
}

fn set_field(pairs: &mut [(String, String)], name: &str, value: &str) {
    pairs.iter_mut().find(|(n, _)| n == name).unwrap().1 = value.to_owned();
}

/// A tampered notification, the signature the configured key gives it, and how to put another
/// signature in its place.
struct Case {
    name: &'static str,
    vector: Value,
    /// `--now` for the link vectors' signed `Date`.
    extra: Vec<String>,
    tampered: Value,
    expected: String,
    resign: Box<dyn Fn(&str) -> Value>,
}

fn form_case(name: &'static str) -> Case {
    let v = vector(name);
    let shop = &v["config"]["shops"][0];
    let key = shop["form"]["test_key"].as_str().unwrap().to_owned();
    let algorithm = match shop["form"]["algorithm"].as_str().unwrap() {
        "sha1" => FormAlgorithm::Sha1,
        _ => FormAlgorithm::HmacSha256,
    };
    let mut pairs = form_pairs(v["request"]["body"].as_str().unwrap());
    set_field(&mut pairs, "vads_amount", "1");
    let expected = ipn_core::form::sign(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())), key.as_bytes(), algorithm);
    let request = v["request"].clone();
    let tampered = with_body(&request, form_body(&pairs));
    let resign = move |signature: &str| {
        let mut pairs = pairs.clone();
        set_field(&mut pairs, "signature", signature);
        with_body(&request, form_body(&pairs))
    };
    Case { name, tampered, vector: v, extra: vec![], expected, resign: Box::new(resign) }
}

fn rest_case() -> Case {
    let v = vector("rest-ipn-password");
    let password = v["config"]["shops"][0]["rest"]["test_password"].as_str().unwrap().to_owned();
    let mut pairs = form_pairs(v["request"]["body"].as_str().unwrap());
    let answer = pairs.iter().find(|(n, _)| n == "kr-answer").unwrap().1.clone();
    let tampered_answer = answer.replace("\"orderTotalAmount\":990", "\"orderTotalAmount\":1");
    assert_ne!(answer, tampered_answer);
    set_field(&mut pairs, "kr-answer", &tampered_answer);
    let expected = ipn_core::rest::kr_hash(&tampered_answer, password.as_bytes());
    let request = v["request"].clone();
    let tampered = with_body(&request, form_body(&pairs));
    let resign = move |signature: &str| {
        let mut pairs = pairs.clone();
        set_field(&mut pairs, "kr-hash", signature);
        with_body(&request, form_body(&pairs))
    };
    Case { name: "rest-ipn-password", tampered, vector: v, extra: vec![], expected, resign: Box::new(resign) }
}

fn link_case() -> Case {
    let v = vector("link-ipn-completed");
    let secret = v["config"]["applications"][0]["secret"].as_str().unwrap().to_owned();
    let body = v["request"]["body"].as_str().unwrap();
    let tampered_body = body.replacen("\"full\"", "\"partial\"", 1);
    assert_ne!(body, tampered_body);
    // The body's digest is public: the attacker recomputes it, leaving only the keyed signature.
    let digest = ipn_core::link::digest_header(tampered_body.as_bytes());
    let mut request = with_body(&v["request"], tampered_body);
    let mut received = String::new();
    for header in request["headers"].as_array_mut().unwrap() {
        if header[0] == "digest" {
            header[1] = Value::String(digest.clone());
        }
        if header[0] == "signature" {
            let value = header[1].as_str().unwrap();
            received = value.split("signature=\"").nth(1).unwrap().trim_end_matches('"').to_owned();
        }
    }
    let parsed = ipn_cli::parse_request(&raw_request(&request)).unwrap();
    let signing_string =
        ipn_core::link::signing_string(parsed.view(), &["(request-target)", "content-type", "date", "digest"]).unwrap();
    let expected = ipn_core::link::signature(&signing_string, secret.as_bytes());
    let tampered = request.clone();
    let resign = move |signature: &str| {
        let mut out = request.clone();
        for header in out["headers"].as_array_mut().unwrap() {
            let value = header[1].as_str().unwrap().replace(&received, signature);
            header[1] = Value::String(value);
        }
        out
    };
    let now = v["config"]["now"].as_str().unwrap().to_owned();
    Case {
        name: "link-ipn-completed",
        tampered,
        vector: v,
        extra: vec!["--now".into(), now],
        expected,
        resign: Box::new(resign),
    }
}

fn cases() -> Vec<Case> {
    vec![form_case("form-ipn-pay-accepted"), form_case("form-ipn-sha1"), rest_case(), link_case()]
}

/// Every run of signature characters (base64, base64url, hex) of 16 or more in `text`, and the
/// same runs split at `+` (the form signing string joins values with it).
fn signature_like_tokens(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for charset in [
        |c: char| c.is_ascii_alphanumeric() || "+/=_-".contains(c),
        |c: char| c.is_ascii_alphanumeric() || "/=_-".contains(c),
    ] {
        for token in text.split(|c: char| !charset(c)) {
            if token.len() >= 16 {
                out.insert(token.to_owned());
            }
        }
    }
    out
}

#[test]
fn explain_does_not_print_the_full_signature_of_a_tampered_notification() {
    for case in cases() {
        let config = config(&case.vector);
        let extra: Vec<&str> = case.extra.iter().map(String::as_str).collect();
        // Controls: the genuine request verifies, and the signature computed here, submitted with
        // the tampered content, verifies too; so each rejection below is meaningful.
        let (code, text) = run("verify", &config, &extra, &case.vector["request"]);
        assert_eq!(code, Some(0), "{}: the genuine request does not verify: {text}", case.name);
        let (code, text) = run("verify", &config, &extra, &(case.resign)(&case.expected));
        assert_eq!(code, Some(0), "{}: the computed signature does not verify: {text}", case.name);

        let (code, text) = run("explain", &config, &extra, &case.tampered);
        assert_eq!(code, Some(1), "{}: {text}", case.name);
        assert!(!text.contains(&case.expected), "{}: explain printed the full expected signature: {text}", case.name);
        assert!(
            text.contains(&case.expected[..6]),
            "{}: explain prints no prefix of the expected signature: {text}",
            case.name
        );
        assert!(text.contains("does NOT match"), "{}: explain gives no match verdict: {text}", case.name);
    }
}

#[test]
fn no_token_printed_by_explain_verifies_when_submitted_again() {
    for case in cases() {
        let config = config(&case.vector);
        let extra: Vec<&str> = case.extra.iter().map(String::as_str).collect();
        let (_, text) = run("explain", &config, &extra, &case.tampered);
        let tokens = signature_like_tokens(&text);
        assert!(!tokens.is_empty(), "{}: {text}", case.name);
        for token in tokens {
            let (code, verdict) = run("verify", &config, &extra, &(case.resign)(&token));
            assert_eq!(code, Some(1), "{}: {token:?} from explain's output verifies: {verdict}\n{text}", case.name);
        }
    }
}

#[test]
fn reveal_signature_prints_the_full_expected_signature() {
    for case in cases() {
        let config = config(&case.vector);
        let mut extra: Vec<&str> = case.extra.iter().map(String::as_str).collect();
        extra.push("--reveal-signature");
        let (code, text) = run("explain", &config, &extra, &case.tampered);
        assert_eq!(code, Some(1), "{}: {text}", case.name);
        assert!(text.contains(&case.expected), "{}: {text}", case.name);
    }
}

#[test]
fn explain_help_says_reveal_signature_is_for_local_use_with_test_keys() {
    let output = ipn(["explain", "--help"]);
    let help = stdout(&output);
    assert!(help.contains("--reveal-signature"), "{help}");
    assert!(help.contains("test keys"), "{help}");
}

#[test]
fn a_field_equal_to_the_form_key_is_printed_as_received_and_the_key_position_is_masked() {
    let v = vector("form-ipn-pay-accepted");
    let key = v["config"]["shops"][0]["form"]["test_key"].as_str().unwrap();
    let mut pairs = form_pairs(v["request"]["body"].as_str().unwrap());
    set_field(&mut pairs, "vads_order_id", key);
    let (_, text) = run("explain", &config(&v), &[], &with_body(&v["request"], form_body(&pairs)));
    let line = text.lines().find(|l| l.starts_with("signing string: ")).unwrap();
    assert!(line.contains(&format!("+{key}+")), "the field is not printed as received: {text}");
    assert!(line.ends_with("+<form TEST key of shop 12345678>"), "the key's position is not masked: {text}");
    assert!(!text.contains("masked key"), "{text}");
}

#[test]
fn a_rest_answer_holding_the_password_is_printed_as_received() {
    let v = vector("rest-ipn-password");
    let password = v["config"]["shops"][0]["rest"]["test_password"].as_str().unwrap();
    let body = v["request"]["body"].as_str().unwrap();
    let mut pairs = form_pairs(body);
    let answer = pairs.iter().find(|(n, _)| n == "kr-answer").unwrap().1.replace("CLOSED", password);
    set_field(&mut pairs, "kr-answer", &answer);
    let (_, text) = run("explain", &config(&v), &[], &with_body(&v["request"], form_body(&pairs)));
    let line = text.lines().find(|l| l.starts_with("signed message: ")).unwrap();
    assert!(line.starts_with("signed message: HMAC-SHA-256(<REST TEST password of shop 69876357>,"), "{text}");
    assert!(line.contains(&format!("\"orderCycle\":\"{password}\"")), "the field is not printed as received: {text}");
    assert!(!text.contains("masked key"), "{text}");
}
