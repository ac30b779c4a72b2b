//! TEST-mode notifications are refused unless configured: a shop opts in (`accept_test_mode =
//! true` in its `[[shops]]` table, `ShopKeys::accept_test_mode(true)`), or the verifier decides
//! for every shop (`Verifier::accept_test_mode`). A TEST key leaks more easily than a PRODUCTION
//! one (it sits in developers' configurations); a production server that accepted what it signs
//! would treat a forged TEST payment as paid.
#![allow(clippy::unwrap_used, missing_docs)]

use ipn_core::testkit::{FormBuilder, FormTemplate, RawRequest, RestBuilder, RestTemplate};
use ipn_core::{
    Config, Credentials, Endpoint, Error, FormAlgorithm, KeySlot, KeyStore, KeyStoreError, Keys, Mode, Notification,
    Secret, ShopKeys, Verifier,
};

const SHOP: &str = "12345678";
const FORM_KEY: &str = "1122334455667788";
const REST_PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";

fn form(mode: Mode) -> RawRequest {
    FormBuilder::new(FormTemplate::Accepted, SHOP).mode(mode).sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256)
}

fn rest(mode: Mode) -> RawRequest {
    RestBuilder::new(RestTemplate::Payment, SHOP).mode(mode).sign(REST_PASSWORD.as_bytes(), Endpoint::Ipn)
}

/// The same keys in both modes, so that only the mode differs between the requests.
fn shop() -> ShopKeys {
    ShopKeys::new(SHOP)
        .form_key(Mode::Test, FORM_KEY)
        .form_key(Mode::Production, FORM_KEY)
        .rest_password(Mode::Test, REST_PASSWORD)
        .rest_password(Mode::Production, REST_PASSWORD)
}

fn verifier(shop: ShopKeys) -> Verifier {
    Verifier::new(Keys::builder().shop(shop).build().unwrap())
}

fn verify(verifier: &Verifier, request: &RawRequest) -> Result<Notification, Error> {
    pollster::block_on(verifier.verify(request.view()))
}

fn accepted(verifier: &Verifier, request: &RawRequest) -> bool {
    match verify(verifier, request) {
        Ok(_) => true,
        Err(Error::TestModeRefused) => false,
        Err(other) => panic!("neither accepted nor refused for its mode: {other}"),
    }
}

#[test]
fn refuses_test_notification_by_default() {
    let verifier = verifier(shop());
    assert_eq!(verifier.policy().accepts_test_mode(), None);
    for request in [form(Mode::Test), rest(Mode::Test)] {
        assert!(matches!(verify(&verifier, &request), Err(Error::TestModeRefused)), "{}", request.target());
    }
    // The refusal is about the mode alone: the same shop accepts its PRODUCTION notifications.
    assert!(accepted(&verifier, &form(Mode::Production)));
    assert!(accepted(&verifier, &rest(Mode::Production)));
}

#[test]
fn a_shop_that_opts_in_accepts_test_notifications() {
    let verifier = verifier(shop().accept_test_mode(true));
    assert!(accepted(&verifier, &form(Mode::Test)));
    assert!(accepted(&verifier, &rest(Mode::Test)));
}

#[test]
fn the_verifier_setting_decides_for_every_shop_whatever_the_shop_says() {
    for shop_setting in [None, Some(false), Some(true)] {
        let shop = match shop_setting {
            None => shop(),
            Some(accept) => shop().accept_test_mode(accept),
        };
        let opted_in = verifier(shop.clone()).accept_test_mode(true);
        assert_eq!(opted_in.policy().accepts_test_mode(), Some(true));
        assert!(accepted(&opted_in, &form(Mode::Test)), "shop {shop_setting:?}");
        assert!(accepted(&opted_in, &rest(Mode::Test)), "shop {shop_setting:?}");
        let refusing = verifier(shop).accept_test_mode(false);
        assert!(!accepted(&refusing, &form(Mode::Test)), "shop {shop_setting:?}");
        assert!(!accepted(&refusing, &rest(Mode::Test)), "shop {shop_setting:?}");
        assert!(accepted(&refusing, &form(Mode::Production)), "shop {shop_setting:?}");
    }
}

/// A key store of one's own builds its credentials with `Credentials::new`: TEST refused there
/// too unless it says otherwise.
#[test]
fn credentials_of_a_custom_key_store_refuse_test_by_default() {
    #[derive(Debug)]
    struct Vault(bool);

    #[ipn_core::async_trait]
    impl KeyStore for Vault {
        async fn credentials(&self, slot: KeySlot<'_>) -> Result<Option<Credentials>, KeyStoreError> {
            let credentials = Credentials::new(vec![Secret::new(FORM_KEY)]);
            Ok(matches!(slot, KeySlot::Form { .. })
                .then(|| if self.0 { credentials.accept_test_mode(true) } else { credentials }))
        }
    }

    assert!(!Credentials::new(vec![Secret::new(FORM_KEY)]).accepts_test_mode());
    assert!(!accepted(&Verifier::new(Vault(false)), &form(Mode::Test)));
    assert!(accepted(&Verifier::new(Vault(true)), &form(Mode::Test)));
}

const TOML_SHOP: &str = r#"
[[shops]]
shop_id = "12345678"
[shops.form]
test_key = "1122334455667788"
production_key = "1122334455667788"
[shops.rest]
test_password = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M"
"#;

#[test]
fn toml_without_accept_test_mode_refuses_test() {
    let verifier = Verifier::from_config(Config::from_toml(TOML_SHOP).unwrap());
    assert!(!accepted(&verifier, &form(Mode::Test)));
    assert!(!accepted(&verifier, &rest(Mode::Test)));
    assert!(accepted(&verifier, &form(Mode::Production)));
}

#[test]
fn toml_with_accept_test_mode_accepts_test() {
    let text = TOML_SHOP.replace("shop_id = \"12345678\"\n", "shop_id = \"12345678\"\naccept_test_mode = true\n");
    assert_ne!(text, TOML_SHOP);
    let verifier = Verifier::from_config(Config::from_toml(&text).unwrap());
    assert!(accepted(&verifier, &form(Mode::Test)));
    assert!(accepted(&verifier, &rest(Mode::Test)));

    let text = TOML_SHOP.replace("shop_id = \"12345678\"\n", "shop_id = \"12345678\"\naccept_test_mode = false\n");
    let verifier = Verifier::from_config(Config::from_toml(&text).unwrap());
    assert!(!accepted(&verifier, &form(Mode::Test)));
}
