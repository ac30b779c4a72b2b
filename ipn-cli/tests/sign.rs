//! `ipn sign` then `ipn verify`: every scheme and template round-trips, overrides land where
//! asked, and bad input is a usage error.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::{Value, json};

struct Setup {
    dir: TempDir,
    config: String,
}

impl Setup {
    fn new(tag: &str) -> Self {
        let dir = TempDir::new(tag);
        let config = dir.write("ipn.toml", CONFIG).display().to_string();
        Self { dir, config }
    }

    /// Signs; returns the request file path and its text.
    fn sign(&self, args: &[&str]) -> (String, String) {
        let mut all = vec!["sign", "--config", &self.config];
        all.extend_from_slice(args);
        let output = ipn(&all);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
        let text = stdout(&output);
        for secret in SECRETS {
            assert!(!text.contains(secret), "a key in the signed request");
        }
        let path = self.dir.write(&format!("{}.http", args.join("_").replace(['/', ' ', '=', ':'], "-")), &text);
        (path.display().to_string(), text)
    }

    fn verify(&self, path: &str, extra: &[&str]) -> Value {
        let mut all = vec!["verify", "--config", &self.config];
        all.extend_from_slice(extra);
        all.push(path);
        let output = ipn(&all);
        let doc = json(&output);
        assert_eq!(output.status.code(), Some(if doc["valid"] == true { 0 } else { 1 }));
        doc
    }
}

#[test]
fn every_form_template_round_trips_in_both_modes() {
    let s = Setup::new("sign-form");
    let templates = [
        ("accepted", "accepted", "payment"),
        ("refused", "failed", "payment"),
        ("abandoned", "cancelled", "payment"),
        ("refund", "accepted", "back-office refund"),
        ("cancellation", "cancelled", "back-office cancellation"),
        ("validation", "accepted", "back-office validation"),
        ("token-creation", "unknown", "back-office token creation"),
    ];
    for (template, class, nature) in templates {
        for mode in ["test", "production"] {
            let (path, text) = s.sign(&["--scheme", "form", "--template", template, "--mode", mode]);
            assert!(text.starts_with("POST /ipn HTTP/1.1\r\n"), "{text}");
            let doc = s.verify(&path, &[]);
            assert_eq!(doc["valid"], true, "{template} {mode}: {doc}");
            assert_eq!(doc["scheme"], "form");
            assert_eq!(doc["notification"]["mode"], mode.to_uppercase());
            assert_eq!(doc["notification"]["status_class"], class, "{template}");
            assert_eq!(doc["notification"]["nature"], nature, "{template}");
        }
    }
    let (path, _) = s.sign(&["--scheme", "form"]);
    assert!(s.verify(&path, &[])["fields"].as_object().unwrap().len() >= 55);
}

#[test]
fn form_overrides_and_browser_return() {
    let s = Setup::new("sign-form-set");
    let (path, _) = s.sign(&[
        "--scheme",
        "form",
        "--set",
        "vads_amount=1000",
        "--set",
        "vads_order_id=A B&C",
        "--set",
        "vads_ext_info_x=é+",
    ]);
    let doc = s.verify(&path, &[]);
    assert_eq!(doc["notification"]["amount"], json!({"minor": 1000, "currency": "EUR"}));
    assert_eq!(doc["notification"]["order_id"], "A B&C");
    assert_eq!(doc["fields"]["vads_ext_info_x"], "é+");

    let (path, _) = s.sign(&["--scheme", "form", "--endpoint", "return"]);
    assert_eq!(s.verify(&path, &[])["valid"], false, "a browser return is not an IPN");
    assert_eq!(s.verify(&path, &["--endpoint", "return"])["valid"], true);
}

#[test]
fn a_signed_file_is_signed_again_with_changes() {
    let s = Setup::new("sign-file");
    let (first, _) = s.sign(&["--scheme", "form", "--template", "refund"]);
    let (again, _) =
        s.sign(&["--scheme", "form", "--template", &first, "--set", "vads_amount=250", "--mode", "production"]);
    let (a, b) = (s.verify(&first, &[]), s.verify(&again, &[]));
    assert_eq!(b["valid"], true, "{b}");
    assert_eq!(b["notification"]["transaction_id"], a["notification"]["transaction_id"]);
    assert_eq!(b["notification"]["amount"]["minor"], 250);
    assert_eq!(b["notification"]["mode"], "PRODUCTION");
}

#[test]
fn rest_templates_round_trip_for_ipn_and_return() {
    let s = Setup::new("sign-rest");
    for (template, class) in [("payment", "accepted"), ("refused", "failed")] {
        for mode in ["test", "production"] {
            let (path, _) = s.sign(&["--scheme", "rest", "--template", template, "--mode", mode]);
            let doc = s.verify(&path, &[]);
            assert_eq!(doc["valid"], true, "{template} {mode}: {doc}");
            assert_eq!(doc["scheme"], "rest");
            assert_eq!(doc["notification"]["status_class"], class);
            assert_eq!(doc["fields"]["orderDetails"]["mode"], mode.to_uppercase());

            let (path, _) =
                s.sign(&["--scheme", "rest", "--template", template, "--mode", mode, "--endpoint", "return"]);
            assert_eq!(s.verify(&path, &["--endpoint", "return"])["valid"], true);
            assert_eq!(s.verify(&path, &[])["valid"], false, "signed with the HMAC key: not an IPN");
        }
    }
}

#[test]
fn rest_overrides_by_dotted_path_and_json_pointer() {
    let s = Setup::new("sign-rest-set");
    let (path, _) = s.sign(&[
        "--scheme",
        "rest",
        "--set",
        "orderDetails.orderId=A-1",
        "--set",
        "/transactions/0/amount:=990",
        "--set",
        "transactions.0.currency=USD",
        "--set",
        "metadata:={\"k\": [1, 2]}",
    ]);
    let doc = s.verify(&path, &[]);
    assert_eq!(doc["notification"]["order_id"], "A-1");
    assert_eq!(doc["notification"]["amount"], json!({"minor": 990, "currency": "USD"}));
    assert_eq!(doc["fields"]["metadata"], json!({"k": [1, 2]}));
}

#[test]
fn link_templates_round_trip_at_their_date() {
    let s = Setup::new("sign-link");
    let date = "Thu, 01 Dec 2022 19:08:22 GMT";
    for (template, status) in [
        ("completed", "COMPLETED"),
        ("refused", "REFUSED"),
        ("canceled", "CANCELED"),
        ("needs-validation", "NEEDS_MERCHANT_VALIDATION"),
    ] {
        let (path, text) = s.sign(&[
            "--scheme",
            "link",
            "--template",
            template,
            "--date",
            date,
            "--set",
            "invoice.totalAmount.amount:=150.75",
        ]);
        assert!(text.starts_with("POST /ipn/link HTTP/1.1\r\n"), "{text}");
        assert!(text.contains("\r\nDigest: SHA-256=") && text.contains("\r\nSignature: keyId="), "{text}");
        let doc = s.verify(&path, &["--now", date]);
        assert_eq!(doc["valid"], true, "{template}: {doc}");
        assert_eq!(doc["notification"]["status"], status);
        assert_eq!(doc["notification"]["amount"], json!({"value": "150.75", "currency": "XOF"}));
        assert_eq!(s.verify(&path, &[])["reply"]["status"], 401, "a 2022 date is stale today");
    }
    let (path, _) = s.sign(&["--scheme", "link", "--target", "/hooks/cb?shop=1"]);
    let doc = s.verify(&path, &[]);
    assert_eq!(doc["valid"], true, "signed now, verified now: {doc}");
}

#[test]
fn bad_sign_arguments_are_usage_errors() {
    let s = Setup::new("sign-bad");
    let cases: [&[&str]; 7] = [
        &["--scheme", "form", "--template", "nope"],
        &["--scheme", "rest", "--set", "no-equals-sign"],
        &["--scheme", "rest", "--set", "a:=not json"],
        &["--scheme", "rest", "--set", "transactions.7.amount=1"],
        &["--scheme", "form", "--set", "vads_amount:=1"],
        &["--scheme", "link", "--mode", "test"],
        &["--scheme", "form", "--shop", "99999999"],
    ];
    for args in cases {
        let mut all = vec!["sign", "--config", &s.config];
        all.extend_from_slice(args);
        let output = ipn(&all);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty());
        assert!(!stderr(&output).is_empty());
    }
    let output = ipn(["sign", "--config", &s.config, "--scheme", "form", "--template", "nope"]);
    assert!(stderr(&output).contains("token-creation"), "lists the known templates: {}", stderr(&output));
}
