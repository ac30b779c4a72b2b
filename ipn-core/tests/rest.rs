//! REST notifications (`kr-*`) through the public `Verifier`: which key, which endpoint, what is
//! refused, and what the typed notification exposes.

#![allow(clippy::unwrap_used, missing_docs)]

use ipn_core::rest::{AnswerType, OrderCycle, OrderStatus, RestNotification, kr_hash};
use ipn_core::{
    Endpoint, Error, Keys, Mode, Notification, Outcome, RequestView, ShopKeys, StatusClass, TransactionStatus, Verifier,
};

const SHOP: &str = "69876357";
const TEST_PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";
const TEST_HMAC_KEY: &str = "38453613e7f44dc58732bad3dca2bca3";
const PRODUCTION_PASSWORD: &str = "prodpassword_SECRET9876543210";
const PRODUCTION_HMAC_KEY: &str = "0123456789abcdef0123456789abcdef";

fn keys() -> Keys {
    Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .rest_password(Mode::Test, TEST_PASSWORD)
                .rest_hmac_key(Mode::Test, TEST_HMAC_KEY)
                .rest_password(Mode::Production, PRODUCTION_PASSWORD)
                .rest_hmac_key(Mode::Production, PRODUCTION_HMAC_KEY)
                .accept_test_mode(true),
        )
        .build()
        .unwrap()
}

/// A V4/Payment answer: one transaction, the given mode, detailed status and operation.
fn answer(mode: &str, detailed_status: &str, operation: &str) -> String {
    format!(
        r#"{{"shopId":"{SHOP}","orderCycle":"CLOSED","orderStatus":"PAID","serverDate":"2026-11-20T10:15:00+00:00",
        "orderDetails":{{"orderTotalAmount":4525,"orderCurrency":"EUR","mode":"{mode}","orderId":"ORDER-1042","_type":"V4/OrderDetails"}},
        "customer":{{"email":"buyer@example.com","reference":"C-7","_type":"V4/Customer/Customer"}},
        "transactions":[{{"shopId":"{SHOP}","uuid":"017574bda28e4f1d8413b97fc65c8197","amount":4525,"currency":"EUR",
        "paymentMethodType":"CARD","status":"PAID","detailedStatus":"{detailed_status}","operationType":"{operation}",
        "creationDate":"2026-11-20T10:14:58+00:00","metadata":{{"cart":"42"}},
        "transactionDetails":{{"effectiveAmount":4525,"effectiveCurrency":"EUR","sequenceNumber":1,
        "cardDetails":{{"effectiveBrand":"CB","pan":"497010XXXXXX0055","legacyTransId":"908967"}}}}}}],
        "_type":"V4/Payment"}}"#
    )
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The posted body: `kr-hash` computed over `signed` with `key`, `kr-answer` = `sent`.
fn body_with(signed: &str, sent: &str, key: &str, hash_key: &str, src: &str) -> String {
    format!(
        "kr-hash={}&kr-hash-algorithm=sha256_hmac&kr-hash-key={hash_key}&kr-answer-type=V4%2FPayment&kr-answer={}&kr-src={src}",
        kr_hash(signed, key.as_bytes()),
        encode(sent)
    )
}

fn body(answer: &str, key: &str, hash_key: &str) -> String {
    body_with(answer, answer, key, hash_key, "PAY")
}

fn post(verifier: &Verifier, body: &str) -> Result<Notification, Error> {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    pollster::block_on(verifier.verify(RequestView::new("POST", "/ipn", &headers, body.as_bytes())))
}

fn ipn() -> Verifier {
    Verifier::new(keys()).endpoint(Endpoint::Ipn)
}

fn browser_return() -> Verifier {
    Verifier::new(keys()).endpoint(Endpoint::Return)
}

fn rest(result: Result<Notification, Error>) -> RestNotification {
    match result {
        Ok(Notification::Rest(n)) => n,
        other => panic!("expected a REST notification, got {other:?}"),
    }
}

#[test]
fn accepts_a_password_signed_ipn_and_types_it() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    let n = rest(post(&ipn(), &body(&a, TEST_PASSWORD, "password")));
    assert_eq!(n.answer(), a);
    assert_eq!(n.answer_type(), Some(&AnswerType::V4Payment));
    assert_eq!(n.unsigned_src().unwrap().as_str(), "PAY");
    assert_eq!((n.shop_id(), n.mode(), n.order_id()), (SHOP, Some(Mode::Test), Some("ORDER-1042")));
    assert_eq!(n.transaction_id(), Some("017574bda28e4f1d8413b97fc65c8197"));
    assert_eq!(n.amount().unwrap().to_string(), "45.25 EUR");
    assert_eq!((n.status(), n.status_class()), (Some("CAPTURED"), StatusClass::Accepted));
    assert!(n.is_final());
    let p = n.payment();
    assert_eq!(p.order_cycle(), Some(&OrderCycle::Closed));
    assert_eq!(p.server_date().unwrap().unix_timestamp(), 1_795_169_700);
    assert_eq!(p.customer().email(), Some("buyer@example.com"));
    assert_eq!(p.customer().reference(), Some("C-7"));
    let t = &p.transactions()[0];
    assert_eq!(t.metadata(), Some(r#"{"cart":"42"}"#));
    assert_eq!(t.card_brand(), Some("CB"));
    assert_eq!(t.card_number(), Some("497010XXXXXX0055"));
    assert_eq!(t.legacy_trans_id(), Some("908967"));
    assert_eq!(t.sequence_number(), Some(1));
}

#[test]
fn rejects_kr_hash_key_sha256_hmac_at_the_ipn_endpoint() {
    // Even correctly signed with the HMAC key: the IPN endpoint expects the password.
    let a = answer("TEST", "CAPTURED", "DEBIT");
    let err = post(&ipn(), &body(&a, TEST_HMAC_KEY, "sha256_hmac")).unwrap_err();
    assert!(matches!(err, Error::KeyKindMismatch { expected: "password", ref received } if received == "sha256_hmac"));
    assert_eq!(err.outcome(), Outcome::BadSignature);
}

#[test]
fn rejects_kr_hash_key_password_at_the_return_endpoint() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    let err = post(&browser_return(), &body(&a, TEST_PASSWORD, "password")).unwrap_err();
    assert!(matches!(err, Error::KeyKindMismatch { expected: "sha256_hmac", ref received } if received == "password"));
}

#[test]
fn kr_hash_key_never_chooses_the_key() {
    // Signed with the HMAC key but labelled `password`: checked against the password, so it fails.
    let a = answer("TEST", "CAPTURED", "DEBIT");
    let err = post(&ipn(), &body(&a, TEST_HMAC_KEY, "password")).unwrap_err();
    assert!(matches!(err, Error::SignatureMismatch));
    let err = post(&browser_return(), &body(&a, TEST_PASSWORD, "sha256_hmac")).unwrap_err();
    assert!(matches!(err, Error::SignatureMismatch));
    assert!(matches!(post(&ipn(), &body(&a, TEST_PASSWORD, "")), Err(Error::KeyKindMismatch { .. })));
}

/// The public vector's body (gateway test data), signed with the TEST HMAC key.
fn vector_body(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    let vector: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    vector["request"]["body"].as_str().unwrap().to_owned()
}

#[test]
fn hmac_key_answer_is_rejected_at_the_ipn_endpoint() {
    let b = vector_body("rest-return-hmac-key.json");
    assert!(matches!(post(&ipn(), &b), Err(Error::KeyKindMismatch { .. })));
    // Relabelled `password`, it is checked against the password: still refused.
    let relabelled = b.replace("kr-hash-key=sha256_hmac", "kr-hash-key=password");
    assert!(matches!(post(&ipn(), &relabelled), Err(Error::SignatureMismatch)));
    assert!(post(&browser_return(), &b).is_ok());
}

#[test]
fn hmac_key_answer_is_accepted_at_the_return_endpoint() {
    let a = answer("TEST", "AUTHORISED", "DEBIT");
    let n = rest(post(&browser_return(), &body(&a, TEST_HMAC_KEY, "sha256_hmac")));
    assert_eq!(n.status(), Some("AUTHORISED"));
}

#[test]
fn escaped_slashes_are_read_as_slashes_for_the_hash() {
    // The gateway hashes the answer with `/`; the body carries `\/`. The answer is kept as received.
    let plain = answer("TEST", "CAPTURED", "DEBIT");
    let escaped = plain.replace('/', "\\/");
    assert!(escaped.contains(r#""V4\/Payment""#));
    let n = rest(post(&ipn(), &body_with(&plain, &escaped, TEST_PASSWORD, "password", "PAY")));
    assert_eq!(n.answer(), escaped);
    assert_eq!(n.amount().unwrap().to_string(), "45.25 EUR");
    // `\/` is not an escape anywhere else: a hash over the escaped text itself matches too.
    assert!(post(&ipn(), &body(&escaped, TEST_PASSWORD, "password")).is_ok());
}

#[test]
fn unknown_json_members_are_tolerated() {
    let a = answer("TEST", "CAPTURED", "DEBIT").replacen(
        r#""orderCycle""#,
        r#""newTopLevel":{"deep":[1,2,{"x":null}]},"flag":true,"ratio":1.5e3,"orderCycle""#,
        1,
    );
    let a = a.replacen(r#""uuid""#, r#""brandNewMember":"x","uuid""#, 1);
    let n = rest(post(&ipn(), &body(&a, TEST_PASSWORD, "password")));
    assert_eq!(n.transaction_id(), Some("017574bda28e4f1d8413b97fc65c8197"));
    // An unknown member is skipped without recursion, however deep.
    let deep = format!(r#""deep":{}{},"orderCycle""#, "[".repeat(100_000), "]".repeat(100_000));
    let a = answer("TEST", "CAPTURED", "DEBIT").replacen(r#""orderCycle""#, &deep, 1);
    assert_eq!(rest(post(&ipn().max_body_bytes(1 << 20), &body(&a, TEST_PASSWORD, "password"))).shop_id(), SHOP);
}

#[test]
fn unknown_statuses_are_kept_as_unknown() {
    let a = answer("TEST", "BRAND_NEW_STATUS", "VERIFICATION")
        .replace(r#""orderStatus":"PAID""#, r#""orderStatus":"REFUNDED""#)
        .replace(r#""orderCycle":"CLOSED""#, r#""orderCycle":"ARCHIVED""#);
    let n = rest(post(&ipn(), &body(&a, TEST_PASSWORD, "password")));
    let p = n.payment();
    assert_eq!(p.order_status(), Some(&OrderStatus::Unknown("REFUNDED".into())));
    assert_eq!(p.order_cycle(), Some(&OrderCycle::Unknown("ARCHIVED".into())));
    let t = &p.transactions()[0];
    assert_eq!(t.detailed_status(), Some(&TransactionStatus::Unknown("BRAND_NEW_STATUS".into())));
    assert_eq!(t.operation_type().unwrap().as_str(), "VERIFICATION");
    assert_eq!(n.status_class(), StatusClass::Unknown);
    assert!(!n.is_final());
}

#[test]
fn duplicate_json_keys_last_wins() {
    let a = answer("TEST", "CAPTURED", "DEBIT")
        .replacen(r#""shopId":"69876357""#, r#""shopId":"00000000","shopId":"69876357""#, 1)
        .replacen(r#""orderStatus":"PAID""#, r#""orderStatus":"PAID","orderStatus":"UNPAID""#, 1);
    let n = rest(post(&ipn(), &body(&a, TEST_PASSWORD, "password")));
    assert_eq!(n.shop_id(), SHOP, "the key was found with the last shopId, and it is the one typed");
    assert_eq!(n.payment().order_status(), Some(&OrderStatus::Unpaid));
}

#[test]
fn tampered_answer_is_rejected() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    let tampered = a.replace(r#""amount":4525"#, r#""amount":1"#);
    assert_ne!(a, tampered);
    let err = post(&ipn(), &body_with(&a, &tampered, TEST_PASSWORD, "password", "PAY")).unwrap_err();
    assert!(matches!(err, Error::SignatureMismatch));
    assert_eq!(err.outcome(), Outcome::BadSignature);
    let bad_hash = body(&a, TEST_PASSWORD, "password").replacen("kr-hash=", "kr-hash=0", 1);
    assert!(matches!(post(&ipn(), &bad_hash), Err(Error::SignatureMismatch)));
}

#[test]
fn other_hash_algorithm_is_unsupported() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    let b = body(&a, TEST_PASSWORD, "password").replace("kr-hash-algorithm=sha256_hmac", "kr-hash-algorithm=sha1");
    let err = post(&ipn(), &b).unwrap_err();
    assert!(matches!(err, Error::UnsupportedAlgorithm { ref algorithm } if algorithm == "sha1"));
    assert_eq!(err.outcome(), Outcome::BadSignature);
}

#[test]
fn missing_kr_hash_is_malformed() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    let b = format!("kr-hash-algorithm=sha256_hmac&kr-hash-key=password&kr-answer={}", encode(&a));
    let err = post(&ipn(), &b).unwrap_err();
    assert!(matches!(err, Error::MissingField { field: "kr-hash", .. }));
    assert_eq!(err.outcome(), Outcome::Malformed);
    let b = format!("kr-hash={}&kr-hash-algorithm=sha256_hmac&kr-hash-key=password", kr_hash(&a, b"x"));
    assert!(matches!(post(&ipn(), &b), Err(Error::MissingField { field: "kr-answer", .. })));
}

#[test]
fn unknown_shop_is_reported_with_its_claimed_id() {
    let a = answer("TEST", "CAPTURED", "DEBIT").replace(SHOP, "11111111");
    let err = post(&ipn(), &body(&a, TEST_PASSWORD, "password")).unwrap_err();
    assert!(matches!(err, Error::UnknownShop { ref shop_id } if shop_id == "11111111"));
    assert_eq!(err.outcome(), Outcome::UnknownShop);
}

#[test]
fn answer_without_shop_or_mode_or_not_json_is_malformed() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    for (broken, what) in [
        (a.replace(r#""shopId":"69876357","orderCycle""#, r#""orderCycle""#), "no shopId"),
        (a.replace(r#""mode":"TEST","#, ""), "no mode"),
        (a.replace(r#""mode":"TEST""#, r#""mode":"test""#), "bad mode"),
        ("[1,2]".to_owned(), "not an object"),
        ("{".to_owned(), "not JSON"),
        (format!("{}{}", "[".repeat(5000), "]".repeat(5000)), "deeply nested"),
    ] {
        let err = post(&ipn(), &body(&broken, TEST_PASSWORD, "password")).unwrap_err();
        assert_eq!(err.outcome(), Outcome::Malformed, "{what}: {err}");
    }
}

#[test]
fn members_of_the_wrong_type_are_reported_after_the_signature_check() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    for (from, to) in [
        (r#""customer":{"email""#, r#""customer":"me","x":{"email""#),
        (r#""transactions":[{"#, r#""transactions":[7,{"#),
        (r#""amount":4525"#, r#""amount":45.25"#),
        (r#""cardDetails":{"#, r#""cardDetails":[],"x":{"#),
        (r#""serverDate":"2026-11-20T10:15:00+00:00""#, r#""serverDate":"yesterday""#),
    ] {
        let broken = a.replacen(from, to, 1);
        assert_ne!(broken, a);
        let forged = post(&ipn(), &body(&broken, "guess", "password")).unwrap_err();
        assert!(matches!(forged, Error::SignatureMismatch), "{to}: {forged}");
        let signed = post(&ipn(), &body(&broken, TEST_PASSWORD, "password")).unwrap_err();
        assert!(matches!(signed, Error::Malformed { .. }), "{to}: {signed}");
    }
}

#[test]
fn invalid_json_in_members_never_read_is_still_malformed() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    for broken in [
        a.replacen(r#""customer":{"#, r#""customer":{"x":{"y":tru},"#, 1),
        a.replacen(r#""cardDetails":{"#, r#""cardDetails":{"x":"\q","#, 1),
        a.replacen(r#""orderCycle""#, r#""x":[1,],"orderCycle""#, 1),
        format!("{a} x"),
    ] {
        assert_ne!(broken, a);
        let err = post(&ipn(), &body(&broken, TEST_PASSWORD, "password")).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{broken}: {err}");
    }
}

#[test]
fn test_mode_refused_by_policy_or_by_shop() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    let b = body(&a, TEST_PASSWORD, "password");
    let err = post(&ipn().accept_test_mode(false), &b).unwrap_err();
    assert!(matches!(err, Error::TestModeRefused));
    assert_eq!(err.outcome(), Outcome::TestModeRefused);

    let shop_refuses = Keys::builder()
        .shop(ShopKeys::new(SHOP).rest_password(Mode::Test, TEST_PASSWORD).accept_test_mode(false))
        .build()
        .unwrap();
    assert!(matches!(post(&Verifier::new(shop_refuses), &b), Err(Error::TestModeRefused)));

    // The signature is checked first: a forged TEST answer is a bad signature, not a refusal.
    let forged = body(&a, "guess", "password");
    assert!(matches!(post(&ipn().accept_test_mode(false), &forged), Err(Error::SignatureMismatch)));
}

#[test]
fn production_answer_uses_the_production_key_slot() {
    let a = answer("PRODUCTION", "CAPTURED", "DEBIT");
    let n = rest(post(&ipn().accept_test_mode(false), &body(&a, PRODUCTION_PASSWORD, "password")));
    assert_eq!(n.mode(), Some(Mode::Production));
    assert!(matches!(post(&ipn(), &body(&a, TEST_PASSWORD, "password")), Err(Error::SignatureMismatch)));
    let r = post(&browser_return(), &body(&a, PRODUCTION_HMAC_KEY, "sha256_hmac"));
    assert!(r.is_ok());
    let test = answer("TEST", "CAPTURED", "DEBIT");
    assert!(matches!(post(&ipn(), &body(&test, PRODUCTION_PASSWORD, "password")), Err(Error::SignatureMismatch)));

    let test_only = Keys::builder().shop(ShopKeys::new(SHOP).rest_password(Mode::Test, TEST_PASSWORD)).build().unwrap();
    let err = post(&Verifier::new(test_only), &body(&a, PRODUCTION_PASSWORD, "password")).unwrap_err();
    assert!(matches!(err, Error::UnknownShop { .. }), "no PRODUCTION password configured");
}

#[test]
fn any_password_of_a_rotated_slot_verifies() {
    let rotated = Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .rest_password(Mode::Test, "old-password")
                .rest_password(Mode::Test, "new-password")
                .accept_test_mode(true),
        )
        .build()
        .unwrap();
    let verifier = Verifier::new(rotated);
    let a = answer("TEST", "CAPTURED", "DEBIT");
    assert!(post(&verifier, &body(&a, "old-password", "password")).is_ok());
    assert!(post(&verifier, &body(&a, "new-password", "password")).is_ok());
    assert!(matches!(post(&verifier, &body(&a, "other-password", "password")), Err(Error::SignatureMismatch)));
}

#[test]
fn older_ipn_request_answer_type_is_read_as_a_payment() {
    let a = answer("TEST", "CAPTURED", "DEBIT").replace("V4/Payment", "V3.1/IPNRequest");
    let b =
        body(&a, TEST_PASSWORD, "password").replace("kr-answer-type=V4%2FPayment", "kr-answer-type=V3.1%2FIPNRequest");
    let n = rest(post(&ipn(), &b));
    assert_eq!(n.answer_type(), Some(&AnswerType::V31IpnRequest));
    assert_eq!(n.order_id(), Some("ORDER-1042"));
}

#[test]
fn fingerprint_is_the_same_for_another_kr_src_and_differs_for_a_refund() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    let pay = rest(post(&ipn(), &body_with(&a, &a, TEST_PASSWORD, "password", "PAY")));
    let retry = rest(post(&ipn(), &body_with(&a, &a, TEST_PASSWORD, "password", "RETRY")));
    let replay = rest(post(&ipn(), &body_with(&a, &a, TEST_PASSWORD, "password", "BO")));
    assert_eq!(pay.fingerprint(), retry.fingerprint());
    assert_eq!(pay.fingerprint(), replay.fingerprint());

    let refund =
        a.replace(r#""uuid":"017574bda28e4f1d8413b97fc65c8197""#, r#""uuid":"9b6e2a8c0b7d4d3f8e51a0c4d2f3e6a1""#);
    let refund = refund.replace(r#""operationType":"DEBIT""#, r#""operationType":"CREDIT""#);
    let refund = rest(post(&ipn(), &body_with(&refund, &refund, TEST_PASSWORD, "password", "MERCH_BO")));
    assert_eq!(refund.nature().label(), "back-office refund");
    assert_ne!(pay.fingerprint(), refund.fingerprint());
    let notification = post(&ipn(), &body(&a, TEST_PASSWORD, "password")).unwrap();
    assert_eq!(notification.fingerprint(), pay.fingerprint(), "the common view gives the same fingerprint");
}

#[test]
fn errors_never_show_a_secret() {
    let a = answer("TEST", "CAPTURED", "DEBIT");
    for b in [body(&a, "guess", "password"), body(&a, TEST_HMAC_KEY, "sha256_hmac")] {
        let err = post(&ipn(), &b).unwrap_err();
        let text = format!("{err} {err:?}");
        for secret in [TEST_PASSWORD, TEST_HMAC_KEY, PRODUCTION_PASSWORD, PRODUCTION_HMAC_KEY] {
            assert!(!text.contains(secret));
        }
    }
    let n = rest(post(&ipn(), &body(&a, TEST_PASSWORD, "password")));
    assert!(!format!("{n:?}").contains(TEST_PASSWORD));
}
