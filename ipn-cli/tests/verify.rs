//! `ipn verify` on every public conformance vector that holds a whole request, as a raw request
//! file and a configuration generated from the vector.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::Value;

/// A vector's `expect.fields` name: a `vads_*` field, a top-level, `orderDetails` or first
/// transaction key of a REST answer, or a dotted path into a link body.
fn lookup<'a>(fields: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(v) = fields.get(name) {
        return Some(v);
    }
    if let Some(v) = fields.pointer(&format!("/{}", name.replace('.', "/"))) {
        return Some(v);
    }
    fields.get("orderDetails").and_then(|d| d.get(name)).or_else(|| fields.pointer(&format!("/transactions/0/{name}")))
}

#[test]
fn verifies_every_public_vector_with_the_right_exit_code_and_json() {
    let vectors = request_vectors();
    assert!(vectors.len() >= 13, "{} vectors", vectors.len());
    for v in vectors {
        let id = v["id"].as_str().unwrap();
        let dir = TempDir::new(id);
        let request = dir.write("request.http", raw_request(&v["request"]));
        let config = dir.write("ipn.toml", toml_config(&v["config"]));
        let mut args = vec!["verify".to_owned(), "--config".to_owned(), config.display().to_string()];
        if let Some(now) = v["config"].get("now").and_then(Value::as_str) {
            args.extend(["--now".to_owned(), now.to_owned()]);
        }
        let endpoint = v["expect"].get("endpoint").and_then(Value::as_str).unwrap_or("ipn");
        args.extend(["--endpoint".to_owned(), endpoint.to_owned(), request.display().to_string()]);
        let output = ipn(&args);
        let doc = json(&output);
        let valid = v["expect"]["valid"].as_bool().unwrap();
        assert_eq!(doc["valid"], valid, "{id}: {doc}");
        assert_eq!(output.status.code(), Some(if valid { 0 } else { 1 }), "{id}");
        if valid {
            assert_eq!(doc["scheme"], v["scheme"], "{id}");
            let n = &doc["notification"];
            for key in [
                "order_id",
                "transaction_id",
                "amount",
                "status",
                "status_class",
                "mode",
                "source",
                "nature",
                "fingerprint",
            ] {
                assert!(n.get(key).is_some(), "{id}: notification.{key} missing: {n}");
            }
            assert_eq!(n["fingerprint"].as_str().map(str::len), Some(64), "{id}");
            for (name, expected) in v["expect"]["fields"].as_object().unwrap() {
                assert_eq!(lookup(&doc["fields"], name), Some(expected), "{id}: field {name} in {}", doc["fields"]);
            }
        } else {
            assert!(doc["error"].as_str().is_some_and(|e| !e.is_empty()), "{id}: {doc}");
            let status = doc["reply"]["status"].as_u64().unwrap();
            assert!((400..500).contains(&status), "{id}: {status}");
            assert!(doc["reply"]["body"].as_str().is_some_and(|b| !b.is_empty() && b.len() <= 256), "{id}");
        }
    }
}

#[test]
fn form_notification_json_has_typed_amount_and_every_vads_field() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors_dir().join("form-ipn-pay-accepted.json")).unwrap())
            .unwrap();
    let dir = TempDir::new("form-json");
    let request = dir.write("r.http", raw_request(&v["request"]));
    let config = dir.write("ipn.toml", toml_config(&v["config"]));
    let doc = json(&ipn(["verify", "--config", config.to_str().unwrap(), request.to_str().unwrap()]));
    let n = &doc["notification"];
    assert_eq!(n["amount"], serde_json::json!({"minor": 4525, "currency": "EUR"}));
    assert_eq!((n["status"].as_str(), n["status_class"].as_str()), (Some("AUTHORISED"), Some("accepted")));
    assert_eq!(
        (n["mode"].as_str(), n["source"].as_str(), n["nature"].as_str()),
        (Some("TEST"), Some("PAY"), Some("payment"))
    );
    let body = v["request"]["body"].as_str().unwrap();
    let sent = form_urlencoded::parse(body.as_bytes()).filter(|(n, _)| n.starts_with("vads_")).count();
    assert_eq!(doc["fields"].as_object().unwrap().len(), sent);
    assert!(doc["fields"].get("signature").is_none());
}

#[test]
fn link_amount_is_an_exact_decimal_and_the_date_window_applies_without_now() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors_dir().join("link-ipn-completed.json")).unwrap()).unwrap();
    let dir = TempDir::new("link-json");
    let request = dir.write("r.http", raw_request(&v["request"]));
    let config = dir.write("ipn.toml", toml_config(&v["config"]));
    let now = v["config"]["now"].as_str().unwrap();
    let doc = json(&ipn(["verify", "--config", config.to_str().unwrap(), "--now", now, request.to_str().unwrap()]));
    assert_eq!(doc["notification"]["amount"], serde_json::json!({"value": "15000", "currency": "XOF"}));
    assert_eq!(doc["fields"]["paymentFee"]["amount"], serde_json::json!(150.75));
    // Today, a 2022 request is a replay.
    let output = ipn(["verify", "--config", config.to_str().unwrap(), request.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["reply"]["status"], 401);
}

#[test]
fn rest_return_vector_is_rejected_at_the_ipn_endpoint() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors_dir().join("rest-return-hmac-key.json")).unwrap())
            .unwrap();
    let dir = TempDir::new("rest-ipn");
    let request = dir.write("r.http", raw_request(&v["request"]));
    let config = dir.write("ipn.toml", toml_config(&v["config"]));
    let output = ipn(["verify", "--config", config.to_str().unwrap(), request.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(json(&output)["error"].as_str().unwrap().contains("kr-hash-key"));
}

#[test]
fn reads_lf_captures_and_stdin() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors_dir().join("form-ipn-sha1.json")).unwrap()).unwrap();
    let dir = TempDir::new("lf");
    let raw = String::from_utf8(raw_request(&v["request"])).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    // LF line ends and no Content-Length: the body is the rest of the file.
    let head: Vec<&str> = head.split("\r\n").filter(|l| !l.starts_with("Content-Length")).collect();
    let request = dir.write("r.http", format!("{}\n\n{body}", head.join("\n")));
    let config = dir.write("ipn.toml", toml_config(&v["config"]));
    let output = ipn(["verify", "--config", config.to_str().unwrap(), request.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ipn"))
        .args(["verify", "--config", config.to_str().unwrap(), "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(raw.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json(&output)["valid"], true);
}

#[test]
fn usage_and_configuration_errors_exit_2_with_a_message() {
    let dir = TempDir::new("usage");
    let config = dir.write("ipn.toml", CONFIG);
    let bad_config =
        dir.write("bad.toml", "[[shops]]\nshop_id = \"1\"\n[shops.form]\ntest_key = \"topsecretvalue\"\nbogus = 1\n");
    let request = dir
        .write("r.http", "POST /ipn HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nvads_site_id=1");
    let garbage = dir.write("g.http", "this is not http");
    let cases: Vec<Vec<String>> = vec![
        vec!["verify".into(), "--config".into(), bad_config.display().to_string(), request.display().to_string()],
        vec![
            "verify".into(),
            "--config".into(),
            dir.path().join("missing.toml").display().to_string(),
            request.display().to_string(),
        ],
        vec!["verify".into(), "--config".into(), config.display().to_string(), garbage.display().to_string()],
        vec![
            "verify".into(),
            "--config".into(),
            config.display().to_string(),
            "--now".into(),
            "yesterday".into(),
            request.display().to_string(),
        ],
        vec![
            "verify".into(),
            "--config".into(),
            config.display().to_string(),
            "--endpoint".into(),
            "bogus".into(),
            request.display().to_string(),
        ],
        vec![
            "verify".into(),
            "--config".into(),
            config.display().to_string(),
            dir.path().join("nope.http").display().to_string(),
        ],
        vec![
            "gateway".into(),
            "--config".into(),
            config.display().to_string(),
            "--notify".into(),
            "ftp://shop/ipn".into(),
        ],
        vec![
            "gateway".into(),
            "--config".into(),
            config.display().to_string(),
            "--notify".into(),
            "http://shop/ipn".into(),
            "--bind".into(),
            "nowhere".into(),
        ],
    ];
    for args in cases {
        let output = ipn(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!stderr(&output).is_empty(), "{args:?}");
        assert!(!stderr(&output).contains("topsecretvalue"));
    }
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in ["verify", "explain", "sign", "send", "gateway"] {
        let output = ipn([command, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{command}");
        let text = stdout(&output);
        assert!(text.contains("Example"), "{command}: {text}");
        assert!(text.contains(&format!("ipn {command}")), "{command}: {text}");
        assert!(!text.contains('\u{1b}'), "no colour when not on a terminal");
    }
}

#[test]
fn verify_output_never_contains_a_configured_key() {
    for v in request_vectors() {
        let id = v["id"].as_str().unwrap();
        let dir = TempDir::new(id);
        let request = dir.write("request.http", raw_request(&v["request"]));
        let config = dir.write("ipn.toml", toml_config(&v["config"]));
        let output = ipn(["verify", "--config", config.to_str().unwrap(), request.to_str().unwrap()]);
        let text = format!("{}{}", stdout(&output), stderr(&output));
        let shops = v["config"]["shops"].as_array().into_iter().flatten();
        let shop_keys = shops.flat_map(|s| ["form", "rest"].into_iter().filter_map(move |k| s.get(k)));
        let mut secrets: Vec<String> = shop_keys
            .flat_map(|t| t.as_object().unwrap().iter().filter(|(n, _)| *n != "algorithm").map(|(_, v)| v.clone()))
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        for app in v["config"]["applications"].as_array().into_iter().flatten() {
            secrets.push(app["secret"].as_str().unwrap().to_owned());
        }
        assert!(!secrets.is_empty(), "{id}");
        for secret in secrets {
            assert!(!text.contains(&secret), "{id}: a key was printed: {text}");
        }
    }
}
