//! A configured key with leading or trailing whitespace (a pasted key, a file read with its
//! newline) is refused when the configuration loads: the gateway's keys never hold whitespace,
//! and a key that silently never verifies only shows once the notifications are refused. The
//! error names the shop (or application) and the setting, never the key.
#![allow(clippy::unwrap_used, missing_docs)]

use ipn_core::{Config, ConfigError, Keys, Mode, ShopKeys};

const KEY: &str = "Pasted-KEY-9f3b2a";

/// Each key setting of the TOML, with the table it sits in.
const SETTINGS: [(&str, &str); 6] = [
    ("form", "test_key"),
    ("form", "production_key"),
    ("rest", "test_password"),
    ("rest", "production_password"),
    ("rest", "test_hmac_key"),
    ("rest", "production_hmac_key"),
];

const PADDINGS: [(&str, &str); 5] = [(" ", ""), ("", " "), ("", "\n"), ("\t", ""), ("", "\r\n")];

fn assert_names_slot_not_key(err: &dyn std::error::Error, slot: &str) {
    let message = err.to_string();
    assert!(message.contains(slot), "{slot} not named: {message}");
    assert!(message.contains("whitespace"), "{message}");
    assert!(!message.contains(&KEY[..KEY.len() - 3]), "the key shows: {message}");
    assert!(!format!("{err:?}").contains(&KEY[..KEY.len() - 3]), "the key shows: {err:?}");
}

fn toml_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t")
}

#[test]
fn refuses_a_toml_key_with_surrounding_whitespace_naming_shop_and_slot() {
    for (table, setting) in SETTINGS {
        for (before, after) in PADDINGS {
            let value = toml_string(&format!("{before}{KEY}{after}"));
            let text = format!("[[shops]]\nshop_id = \"12345678\"\n[shops.{table}]\n{setting} = \"{value}\"\n");
            let err = Config::from_toml(&text).unwrap_err();
            assert!(matches!(err, ConfigError::Whitespace { .. }), "{err}");
            assert_names_slot_not_key(&err, &format!("shops[12345678].{table}.{setting}"));
        }
        // A rotation list: the second key is the padded one.
        let text = format!("[[shops]]\nshop_id = \"1\"\n[shops.{table}]\n{setting} = [\"ok\", \"{KEY} \"]\n");
        assert_names_slot_not_key(&Config::from_toml(&text).unwrap_err(), &format!("shops[1].{table}.{setting}"));
    }
}

#[test]
fn refuses_an_environment_key_with_surrounding_whitespace_naming_setting_and_variable() {
    for (table, setting) in SETTINGS {
        let text = format!("[[shops]]\nshop_id = \"12345678\"\n[shops.{table}]\n{setting}_env = \"SHOP_KEY\"\n");
        let err =
            Config::from_toml_with_env(&text, |name| (name == "SHOP_KEY").then(|| format!("{KEY}\n"))).unwrap_err();
        assert_names_slot_not_key(&err, &format!("shops[12345678].{table}.{setting}_env"));
        assert!(err.to_string().contains("SHOP_KEY"), "{err}");
    }
    let text = "[[applications]]\napplication_id = \"app-1\"\nsecret_env = \"APP_SECRET\"\n";
    let err = Config::from_toml_with_env(text, |_| Some(format!(" {KEY}"))).unwrap_err();
    assert_names_slot_not_key(&err, "applications[app-1].secret_env");
}

#[test]
fn refuses_an_application_secret_with_surrounding_whitespace() {
    let text = format!("[[applications]]\napplication_id = \"app-1\"\nsecret = \"{KEY} \"\n");
    assert_names_slot_not_key(&Config::from_toml(&text).unwrap_err(), "applications[app-1].secret");
}

#[test]
fn the_keys_builder_refuses_a_key_with_surrounding_whitespace() {
    let padded = format!("{KEY}\n");
    let cases = [
        (ShopKeys::new("7").form_key(Mode::Test, padded.as_str()), "shops[7].form.test_key"),
        (ShopKeys::new("7").form_key(Mode::Production, padded.as_str()), "shops[7].form.production_key"),
        (ShopKeys::new("7").rest_password(Mode::Test, padded.as_str()), "shops[7].rest.test_password"),
        (ShopKeys::new("7").rest_hmac_key(Mode::Production, padded.as_str()), "shops[7].rest.production_hmac_key"),
    ];
    for (shop, slot) in cases {
        assert_names_slot_not_key(&Keys::builder().shop(shop).build().unwrap_err(), slot);
    }
    let err = Keys::builder().application("app-1", padded.as_str()).build().unwrap_err();
    assert_names_slot_not_key(&err, "applications[app-1].secret");
}

#[test]
fn keys_without_surrounding_whitespace_still_load() {
    let text = format!(
        "[[shops]]\nshop_id = \"1\"\n[shops.form]\ntest_key = \"{KEY}\"\n\
         [[applications]]\napplication_id = \"a\"\nsecret = \"s3cr3t with inner spaces\"\n"
    );
    let config = Config::from_toml(&text).unwrap();
    assert_eq!((config.keys().shop_count(), config.keys().application_count()), (1, 1));
}
