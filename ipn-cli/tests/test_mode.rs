//! `ipn verify` follows the configuration: a TEST notification is refused unless its shop opts in
//! (`accept_test_mode = true`), and a configuration holding a padded key does not load.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::Value;

fn pay_accepted() -> Value {
    request_vectors().into_iter().find(|v| v["id"] == "form-ipn-pay-accepted").unwrap()
}

/// `ipn verify` of the vector's TEST request under `config`.
fn verify(config: &str) -> std::process::Output {
    let dir = TempDir::new("test-mode");
    let request = dir.write("request.http", raw_request(&pay_accepted()["request"]));
    let config = dir.write("ipn.toml", config);
    ipn(["verify", "--config", &config.display().to_string(), &request.display().to_string()])
}

#[test]
fn verify_refuses_a_test_notification_unless_the_shop_opts_in() {
    let vector = pay_accepted();
    assert!(vector["request"]["body"].as_str().unwrap().contains("vads_ctx_mode=TEST"));
    let opted_in = toml_config(&vector["config"]);
    assert!(opted_in.contains("accept_test_mode = true\n"), "{opted_in}");

    let output = verify(&opted_in.replace("accept_test_mode = true\n", ""));
    let doc = json(&output);
    assert_eq!((output.status.code(), &doc["valid"]), (Some(1), &Value::Bool(false)), "{doc}");
    assert!(doc.to_string().contains("TEST mode"), "{doc}");

    let output = verify(&opted_in);
    assert_eq!((output.status.code(), &json(&output)["valid"]), (Some(0), &Value::Bool(true)));
}

#[test]
fn verify_refuses_a_configuration_with_a_padded_key_naming_the_slot() {
    let config = toml_config(&pay_accepted()["config"]).replace("\"1122334455667788\"", "\"1122334455667788 \"");
    let output = verify(&config);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("shops[12345678].form.test_key") && message.contains("whitespace"), "{message}");
    assert!(!message.contains("1122334455667788") && !stdout(&output).contains("1122334455667788"), "{message}");
}
