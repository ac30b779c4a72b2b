//! Form notifications through the public `Verifier`: every rule of PROTOCOLS section 1 that a
//! merchant relies on, as behaviour.

#![allow(clippy::unwrap_used, missing_docs)]

use ipn_core::{
    Endpoint, Error, FormAlgorithm, Keys, Mode, Notification, Outcome, RequestView, ShopKeys, StatusClass, Verifier,
};

const SHOP: &str = "12345678";
const TEST_KEY: &str = "1122334455667788";
const PROD_KEY: &str = "8877665544332211";

fn keys() -> Keys {
    Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .form_key(Mode::Test, TEST_KEY)
                .form_key(Mode::Production, PROD_KEY)
                .accept_test_mode(true),
        )
        .build()
        .unwrap()
}

fn base_fields(mode: &str) -> Vec<(String, String)> {
    [
        ("vads_site_id", SHOP),
        ("vads_ctx_mode", mode),
        ("vads_trans_uuid", "4b5053b3b1fe4b02a07753e7a3f2c1d0"),
        ("vads_trans_status", "AUTHORISED"),
        ("vads_amount", "4525"),
        ("vads_currency", "978"),
        ("vads_order_id", "ORDER-1042"),
        ("vads_operation_type", "DEBIT"),
        ("vads_url_check_src", "PAY"),
        ("vads_hash", "0d8b1a8f4ba7b1e6f1e7a4b6c1d9e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7"),
        ("vads_trans_date", "20261120101500"),
        ("vads_version", "V2"),
        ("vads_threeds_cavv", ""),
        ("vads_threeds_cavvAlgorithm", "2"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// Signs the fields with `key`, then encodes them (signature last).
fn signed_body(fields: &[(String, String)], key: &str, algorithm: FormAlgorithm) -> String {
    let signature =
        ipn_core::form::sign(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())), key.as_bytes(), algorithm);
    encode(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain([("signature", signature.as_str())]))
}

fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn verify_with(verifier: &Verifier, body: &str) -> Result<Notification, Error> {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    pollster::block_on(verifier.verify(RequestView::new("POST", "/ipn", &headers, body.as_bytes())))
}

fn verify(body: &str) -> Result<Notification, Error> {
    verify_with(&Verifier::new(keys()), body)
}

#[test]
fn accepts_a_signed_test_notification_and_types_it() {
    let n = verify(&signed_body(&base_fields("TEST"), TEST_KEY, FormAlgorithm::HmacSha256)).unwrap();
    let form = n.as_form().unwrap();
    assert_eq!(n.merchant_id(), SHOP);
    assert_eq!(n.mode(), Some(Mode::Test));
    assert_eq!(n.order_id(), Some("ORDER-1042"));
    assert_eq!(n.transaction_id(), Some("4b5053b3b1fe4b02a07753e7a3f2c1d0"));
    assert_eq!(n.amount().unwrap().to_minor(), Some(4525));
    assert_eq!(n.amount().unwrap().currency().code(), "EUR");
    assert_eq!(n.status_class(), StatusClass::Accepted);
    assert!(form.is_ipn());
    assert_eq!(form.get("vads_threeds_cavv"), Some(""));
}

#[test]
fn values_with_reserved_and_non_ascii_characters_round_trip() {
    let mut fields = base_fields("TEST");
    fields.push(("vads_cust_name".into(), "Zoë + Œdipe & fils = 100% «ok»".into()));
    fields.push(("vads_ext_info_note".into(), "a=b&c=d".into()));
    fields.push(("vads_order_info2".into(), String::new()));
    let verifier = Verifier::new(keys()).extra_form_fields(["vads_ext_info_note"]);
    let n = verify_with(&verifier, &signed_body(&fields, TEST_KEY, FormAlgorithm::HmacSha256)).unwrap();
    assert_eq!(n.as_form().unwrap().get("vads_cust_name"), Some("Zoë + Œdipe & fils = 100% «ok»"));
    assert_eq!(n.as_form().unwrap().get("vads_ext_info_note"), Some("a=b&c=d"));
}

#[test]
fn empty_fields_are_signed_too() {
    let fields = base_fields("TEST");
    let body = signed_body(&fields, TEST_KEY, FormAlgorithm::HmacSha256);
    // Dropping an empty field changes the signing string: rejected.
    let without_empty = body.replace("vads_threeds_cavv=&", "");
    assert_ne!(body, without_empty);
    assert!(matches!(verify(&without_empty), Err(Error::SignatureMismatch)));
}

#[test]
fn production_notification_uses_the_production_key() {
    let body = signed_body(&base_fields("PRODUCTION"), PROD_KEY, FormAlgorithm::HmacSha256);
    assert_eq!(verify(&body).unwrap().mode(), Some(Mode::Production));
}

#[test]
fn rejects_production_notification_signed_with_test_key() {
    let body = signed_body(&base_fields("PRODUCTION"), TEST_KEY, FormAlgorithm::HmacSha256);
    let err = verify(&body).unwrap_err();
    assert!(matches!(err, Error::SignatureMismatch));
    assert_eq!(err.outcome(), Outcome::BadSignature);
}

#[test]
fn rejects_an_unknown_shop() {
    let mut fields = base_fields("TEST");
    fields[0].1 = "99999999".into();
    let err = verify(&signed_body(&fields, TEST_KEY, FormAlgorithm::HmacSha256)).unwrap_err();
    assert!(matches!(&err, Error::UnknownShop { shop_id } if shop_id == "99999999"));
    assert_eq!(err.outcome(), Outcome::UnknownShop);
}

#[test]
fn rejects_a_missing_signature() {
    let fields = base_fields("TEST");
    let body = encode(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let err = verify(&body).unwrap_err();
    assert!(matches!(err, Error::MissingField { field: "signature", .. }));
    assert_eq!(err.outcome(), Outcome::Malformed);
}

#[test]
fn rejects_a_vads_field_added_after_signing() {
    let body = signed_body(&base_fields("TEST"), TEST_KEY, FormAlgorithm::HmacSha256);
    let err = verify(&format!("{body}&vads_order_info2=1")).unwrap_err();
    assert!(matches!(err, Error::SignatureMismatch));
    // A name the gateway does not send is refused before the signature is even computed.
    let err = verify(&format!("{body}&vads_amount_bonus=1")).unwrap_err();
    assert!(matches!(&err, Error::UnknownField { name } if name == "vads_amount_bonus"), "{err:?}");
    // So is a field without the prefix: it is not signed, and a handler could read it.
    let err = verify(&format!("{body}&utm_source=mail")).unwrap_err();
    assert!(matches!(&err, Error::UnknownField { name } if name == "utm_source"), "{err:?}");
    assert_eq!(err.outcome(), Outcome::Malformed);
}

#[test]
fn rejects_a_repeated_field_name() {
    let body = signed_body(&base_fields("TEST"), TEST_KEY, FormAlgorithm::HmacSha256);
    let err = verify(&format!("{body}&vads_amount=1")).unwrap_err();
    assert!(matches!(&err, Error::Malformed { reason, .. } if reason.contains("vads_amount")), "{err}");
}

#[test]
fn rejects_a_tampered_value() {
    let body = signed_body(&base_fields("TEST"), TEST_KEY, FormAlgorithm::HmacSha256);
    let tampered = body.replace("vads_amount=4525", "vads_amount=1");
    assert!(matches!(verify(&tampered), Err(Error::SignatureMismatch)));
}

#[test]
fn any_key_of_a_rotated_slot_verifies() {
    let keys = Keys::builder()
        .shop(
            ShopKeys::new(SHOP).form_key(Mode::Test, "old-key").form_key(Mode::Test, "new-key").accept_test_mode(true),
        )
        .build()
        .unwrap();
    let verifier = Verifier::new(keys);
    for key in ["old-key", "new-key"] {
        assert!(verify_with(&verifier, &signed_body(&base_fields("TEST"), key, FormAlgorithm::HmacSha256)).is_ok());
    }
    let other = signed_body(&base_fields("TEST"), TEST_KEY, FormAlgorithm::HmacSha256);
    assert!(verify_with(&verifier, &other).is_err());
}

#[test]
fn sha1_is_refused_unless_the_shop_opts_in() {
    let body = signed_body(&base_fields("TEST"), TEST_KEY, FormAlgorithm::Sha1);
    assert!(matches!(verify(&body), Err(Error::Sha1NotAllowed)));
    let opted_in = Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .form_key(Mode::Test, TEST_KEY)
                .form_algorithm(FormAlgorithm::Sha1)
                .accept_test_mode(true),
        )
        .build()
        .unwrap();
    assert!(verify_with(&Verifier::new(opted_in), &body).is_ok());
}

#[test]
fn test_mode_can_be_refused_globally_or_per_shop() {
    let body = signed_body(&base_fields("TEST"), TEST_KEY, FormAlgorithm::HmacSha256);
    let err = verify_with(&Verifier::new(keys()).accept_test_mode(false), &body).unwrap_err();
    assert!(matches!(err, Error::TestModeRefused));
    assert_eq!(err.outcome(), Outcome::TestModeRefused);
    let per_shop = Keys::builder()
        .shop(ShopKeys::new(SHOP).form_key(Mode::Test, TEST_KEY).accept_test_mode(false))
        .build()
        .unwrap();
    assert!(matches!(verify_with(&Verifier::new(per_shop), &body), Err(Error::TestModeRefused)));
    // A forged TEST notification is a bad signature, not a policy refusal.
    let forged = signed_body(&base_fields("TEST"), "not-the-key", FormAlgorithm::HmacSha256);
    assert!(matches!(
        verify_with(&Verifier::new(keys()).accept_test_mode(false), &forged),
        Err(Error::SignatureMismatch)
    ));
}

#[test]
fn browser_returns_and_ipns_go_to_their_own_endpoint() {
    let ipn = signed_body(&base_fields("TEST"), TEST_KEY, FormAlgorithm::HmacSha256);
    let ret_fields: Vec<_> =
        base_fields("TEST").into_iter().filter(|(k, _)| k != "vads_hash" && k != "vads_url_check_src").collect();
    let browser_return = signed_body(&ret_fields, TEST_KEY, FormAlgorithm::HmacSha256);
    let at_return = Verifier::new(keys()).endpoint(Endpoint::Return);
    assert!(matches!(verify(&browser_return), Err(Error::WrongEndpoint(_))));
    assert!(verify_with(&at_return, &browser_return).is_ok());
    assert!(matches!(verify_with(&at_return, &ipn), Err(Error::WrongEndpoint(_))));
}

#[test]
fn empty_and_unrecognised_bodies() {
    assert!(matches!(verify(""), Err(Error::EmptyBody)));
    assert!(matches!(verify("  \r\n"), Err(Error::EmptyBody)));
    assert!(matches!(verify("a=1&b=2"), Err(Error::UnknownScheme)));
    assert!(matches!(
        verify("vads_site_id=12345678&signature=x"),
        Err(Error::MissingField { field: "vads_ctx_mode", .. })
    ));
    let bad_mode = "vads_site_id=12345678&vads_ctx_mode=DEMO&signature=x";
    assert!(matches!(verify(bad_mode), Err(Error::InvalidField { ref name, .. }) if name == "vads_ctx_mode"));
    assert!(matches!(verify("vads_x=%FF&signature=x"), Err(Error::Malformed { .. })));
}

#[test]
fn method_content_type_and_size_are_checked() {
    let body = signed_body(&base_fields("TEST"), TEST_KEY, FormAlgorithm::HmacSha256);
    let verifier = Verifier::new(keys());
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let get = RequestView::new("GET", "/ipn", &form, body.as_bytes());
    assert!(matches!(pollster::block_on(verifier.verify(get)), Err(Error::MethodNotAllowed { .. })));
    let text = [("content-type", "text/plain")];
    let wrong_type = RequestView::new("POST", "/ipn", &text, body.as_bytes());
    assert!(matches!(pollster::block_on(verifier.verify(wrong_type)), Err(Error::UnsupportedMediaType { .. })));
    let none: [(&str, &str); 0] = [];
    let untyped = RequestView::new("POST", "/ipn", &none, body.as_bytes());
    assert!(pollster::block_on(verifier.verify(untyped)).is_ok(), "no Content-Type: recognised by the body");
    let small = Verifier::new(keys()).max_body_bytes(body.len() - 1);
    let sized = RequestView::new("POST", "/ipn", &form, body.as_bytes());
    assert!(matches!(pollster::block_on(small.verify(sized)), Err(Error::BodyTooLarge { .. })));
}

#[test]
fn errors_never_show_a_key() {
    let body = signed_body(&base_fields("PRODUCTION"), TEST_KEY, FormAlgorithm::HmacSha256);
    let err = verify(&body).unwrap_err();
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(TEST_KEY) && !text.contains(PROD_KEY), "{text}");
    }
    let verifier = Verifier::new(keys());
    let debug = format!("{verifier:?}");
    assert!(!debug.contains(TEST_KEY) && !debug.contains(PROD_KEY), "{debug}");
}
