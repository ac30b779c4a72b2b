//! The REST fields beside `kr-answer` that `kr-hash` does not cover (`kr-src`, `kr-answer-type`)
//! cannot change what a genuine signed notification means; and the REST scheme is chosen on
//! `kr-hash`, not on any `kr-` name.

#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used, missing_docs)]

use ipn_core::form::{BackOfficeOperation, Nature};
use ipn_core::rest::{AnswerType, RestNotification, kr_hash};
use ipn_core::testkit::{FormBuilder, FormTemplate};
use ipn_core::{Error, FormAlgorithm, Keys, Mode, Notification, RequestView, Scheme, ShopKeys, Verifier};

const SHOP: &str = "69876357";
const PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";
const FORM_SHOP: &str = "12345678";
const FORM_KEY: &str = "1122334455667788";

fn verifier() -> Verifier {
    let keys = Keys::builder()
        .shop(ShopKeys::new(SHOP).rest_password(Mode::Test, PASSWORD))
        .shop(ShopKeys::new(FORM_SHOP).form_key(Mode::Test, FORM_KEY))
        .build()
        .unwrap();
    Verifier::new(keys).accept_test_mode(true)
}

/// A V4/Payment answer: one transaction with this detailed status and operation.
fn answer(detailed_status: &str, operation: &str, manual_validation: &str) -> String {
    format!(
        r#"{{"shopId":"{SHOP}","orderCycle":"CLOSED","orderStatus":"PAID","serverDate":"2026-11-20T10:15:00+00:00",
        "orderDetails":{{"orderTotalAmount":4525,"orderCurrency":"EUR","mode":"TEST","orderId":"ORDER-1042","_type":"V4/OrderDetails"}},
        "transactions":[{{"shopId":"{SHOP}","uuid":"017574bda28e4f1d8413b97fc65c8197","amount":4525,"currency":"EUR",
        "paymentMethodType":"CARD","status":"PAID","detailedStatus":"{detailed_status}","operationType":"{operation}",
        "transactionDetails":{{"effectiveAmount":4525,"effectiveCurrency":"EUR","sequenceNumber":1,
        "cardDetails":{{"manualValidation":"{manual_validation}"}}}},"_type":"V4/PaymentTransaction"}}],
        "_type":"V4\/Payment"}}"#
    )
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The signed part of a REST IPN: `kr-hash` over `answer` with the shop's password.
fn signed(answer: &str) -> String {
    format!(
        "kr-hash={}&kr-hash-algorithm=sha256_hmac&kr-hash-key=password&kr-answer={}",
        kr_hash(answer, PASSWORD.as_bytes()),
        encode(answer)
    )
}

fn post(body: &str) -> Result<Notification, Error> {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    pollster::block_on(verifier().verify(RequestView::new("POST", "/ipn", &headers, body.as_bytes())))
}

fn rest(result: Result<Notification, Error>) -> RestNotification {
    match result {
        Ok(Notification::Rest(n)) => n,
        other => panic!("expected a REST notification, got {other:?}"),
    }
}

/// Every `kr-src` an attacker could post beside a genuine answer, `None` leaving it out.
const SOURCES: [Option<&str>; 12] = [
    Some("PAY"),
    Some("MERCH_BO"),
    Some("RETRY"),
    Some("BO"),
    Some("REC"),
    Some("BATCH"),
    Some("BATCH_AUTO"),
    Some("PAYMENT_ORDER"),
    Some("DCF"),
    Some("SOMETHING_ELSE"),
    Some(""),
    None,
];

fn with_src(answer: &str, src: Option<&str>) -> String {
    let mut body = format!("{}&kr-answer-type=V4%2FPayment", signed(answer));
    if let Some(src) = src {
        body.push_str(&format!("&kr-src={}", encode(src)));
    }
    body
}

#[test]
fn kr_src_changes_neither_the_nature_nor_the_fingerprint_of_a_signed_answer() {
    let cases = [
        (answer("CAPTURED", "DEBIT", "NO"), Nature::Payment),
        (answer("CAPTURED", "CREDIT", "NO"), Nature::BackOffice(BackOfficeOperation::Refund)),
        (answer("CANCELLED", "DEBIT", "NO"), Nature::BackOffice(BackOfficeOperation::Cancellation)),
        (answer("AUTHORISED", "DEBIT", "YES"), Nature::BackOffice(BackOfficeOperation::Validation)),
        (answer("AUTHORISED_TO_VALIDATE", "DEBIT", "YES"), Nature::Payment),
    ];
    for (answer, nature) in cases {
        let genuine = rest(post(&with_src(&answer, Some("PAY"))));
        for src in SOURCES {
            let n = rest(post(&with_src(&answer, src)));
            assert_eq!(n.nature(), nature, "kr-src {src:?} on {answer}");
            assert_eq!(Notification::Rest(n.clone()).nature(), nature, "common view, kr-src {src:?}");
            assert_eq!(n.fingerprint(), genuine.fingerprint(), "kr-src {src:?}");
            assert_eq!(n.answer_type(), Some(&AnswerType::V4Payment), "kr-src {src:?}");
            // Kept as posted, under a name that says so.
            assert_eq!(n.unsigned_src().map(|s| s.as_str()), src.filter(|s| !s.is_empty()));
        }
    }
}

#[test]
fn a_refund_posted_as_a_recurring_installment_stays_a_refund() {
    // The example shop counts an installment on `Nature::Recurring`: the label must come from the
    // signed operation, whatever `kr-src` says.
    let refund = answer("CAPTURED", "CREDIT", "NO");
    let n = rest(post(&with_src(&refund, Some("REC"))));
    assert_eq!(n.nature(), Nature::BackOffice(BackOfficeOperation::Refund));
    assert_ne!(n.nature(), Nature::Recurring);
}

#[test]
fn kr_answer_type_cannot_change_the_signed_answer_type() {
    let a = answer("CAPTURED", "DEBIT", "NO");
    let genuine = rest(post(&format!("{}&kr-answer-type=V4%2FPayment&kr-src=PAY", signed(&a))));
    assert_eq!(genuine.answer_type(), Some(&AnswerType::V4Payment));

    // Without `kr-answer-type` the signed `_type` still says what the answer is.
    let without = rest(post(&format!("{}&kr-src=PAY", signed(&a))));
    assert_eq!(without.answer_type(), Some(&AnswerType::V4Payment));
    assert_eq!(without.fingerprint(), genuine.fingerprint());

    // A `kr-answer-type` that disagrees with the signed `_type` is refused: the delivery was
    // altered, and nothing unsigned may relabel the answer.
    for claimed in ["V3.1%2FIPNRequest", "V4%2FCharge%2FPaymentForm", "junk", "v4%2Fpayment"] {
        let result = post(&format!("{}&kr-answer-type={claimed}&kr-src=PAY", signed(&a)));
        assert!(
            matches!(result, Err(Error::Malformed { scheme: Scheme::Rest, .. })),
            "kr-answer-type={claimed}: {result:?}"
        );
    }
    // An empty `kr-answer-type` says nothing.
    let empty = rest(post(&format!("{}&kr-answer-type=&kr-src=PAY", signed(&a))));
    assert_eq!(empty.answer_type(), Some(&AnswerType::V4Payment));

    // The older type, when it is the signed one, is read as such.
    let older = a.replace(r#""_type":"V4\/Payment""#, r#""_type":"V3.1\/IPNRequest""#);
    assert_ne!(older, a);
    let n = rest(post(&format!("{}&kr-answer-type=V3.1%2FIPNRequest", signed(&older))));
    assert_eq!(n.answer_type(), Some(&AnswerType::V31IpnRequest));
}

fn form_body() -> String {
    let request =
        FormBuilder::new(FormTemplate::Accepted, FORM_SHOP).sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256);
    String::from_utf8(request.body().to_vec()).unwrap()
}

#[test]
fn a_form_body_with_an_extra_kr_field_is_read_as_a_form() {
    let genuine = post(&form_body()).unwrap();
    assert!(matches!(genuine, Notification::Form(_)));
    // Read by the form scheme, whose dictionary refuses a name the gateway never sends there.
    for (extra, name) in [
        ("kr-foo=1", "kr-foo"),
        ("kr-src=PAY", "kr-src"),
        ("kr-answer-type=V4%2FPayment", "kr-answer-type"),
        ("kr-=x", "kr-"),
    ] {
        let result = post(&format!("{}&{extra}", form_body()));
        assert!(matches!(&result, Err(Error::UnknownField { name: n }) if n == name), "{extra}: {result:?}");
    }
}

#[test]
fn kr_fields_without_kr_hash_are_refused_for_the_missing_rest_signature() {
    let a = answer("CAPTURED", "DEBIT", "NO");
    for body in [
        format!("kr-answer={}&kr-src=PAY", encode(&a)),
        format!("kr-hash-algorithm=sha256_hmac&kr-hash-key=password&kr-answer={}", encode(&a)),
        "kr-foo=1".to_owned(),
    ] {
        let result = post(&body);
        assert!(
            matches!(result, Err(Error::MissingField { scheme: Scheme::Rest, field: "kr-hash" })),
            "{body}: {result:?}"
        );
    }
}

#[test]
fn a_rest_body_with_vads_fields_is_neither_a_form_nor_a_rest_notification() {
    let a = answer("CAPTURED", "DEBIT", "NO");
    // A genuine REST IPN with a genuine signed form beside it: one scheme per body.
    let mixed = format!("{}&kr-answer-type=V4%2FPayment&kr-src=PAY&{}", signed(&a), form_body());
    let result = post(&mixed);
    assert!(matches!(result, Err(Error::Malformed { scheme: Scheme::Rest, .. })), "{result:?}");
    // A forged `kr-hash` beside a genuine signed form is not accepted as the form.
    let forged = format!("kr-hash={}&{}", "0".repeat(64), form_body());
    let result = post(&forged);
    assert!(result.is_err(), "{result:?}");
    // One invented `vads_` field beside a genuine REST IPN.
    let result = post(&format!("{}&kr-answer-type=V4%2FPayment&vads_foo=1", signed(&a)));
    assert!(matches!(result, Err(Error::Malformed { scheme: Scheme::Rest, .. })), "{result:?}");
}
