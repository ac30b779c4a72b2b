//! Every testkit template, signed, passes the verifier; signed with the wrong key, it fails.
#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used, missing_docs)]

use ipn_core::testkit::{DigestStyle, FormBuilder, FormTemplate, LinkBuilder, LinkTemplate, RestBuilder, RestTemplate};
use ipn_core::{Endpoint, Error, FormAlgorithm, Keys, Mode, Notification, Scheme, ShopKeys, StatusClass, Verifier};
use serde_json::json;

const SHOP: &str = "12345678";
const APP: &str = "fbab3ccc-719e-11ed-93ad-02420a0003c1";

fn verifier() -> Verifier {
    let keys = Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .form_key(Mode::Test, "1122334455667788")
                .form_key(Mode::Production, "8877665544332211")
                .rest_password(Mode::Test, "testpassword_X")
                .rest_hmac_key(Mode::Test, "hmac-key-X")
                .accept_test_mode(true),
        )
        .application(APP, "app!secret")
        .build()
        .unwrap();
    Verifier::new(keys)
}

fn verify(v: &Verifier, r: &ipn_core::testkit::RawRequest) -> Result<Notification, Error> {
    pollster::block_on(v.verify(r.view()))
}

#[test]
fn every_form_template_verifies_with_its_mode_key_only() {
    let v = verifier();
    for template in FormTemplate::ALL {
        let b = FormBuilder::new(template, SHOP).mode(Mode::Production);
        let n = verify(&v, &b.sign(b"8877665544332211", FormAlgorithm::HmacSha256)).unwrap();
        assert_eq!(n.scheme(), Scheme::Form);
        assert_eq!(n.mode(), Some(Mode::Production), "{template:?}");
        let wrong = verify(&v, &b.sign(b"1122334455667788", FormAlgorithm::HmacSha256)).unwrap_err();
        assert!(matches!(wrong, Error::SignatureMismatch), "{template:?}: {wrong}");
    }
}

#[test]
fn form_templates_have_the_documented_nature() {
    let v = verifier();
    let label = |t| {
        let r = FormBuilder::new(t, SHOP).sign(b"1122334455667788", FormAlgorithm::HmacSha256);
        verify(&v, &r).unwrap().nature().label()
    };
    assert_eq!(label(FormTemplate::Accepted), "payment");
    assert_eq!(label(FormTemplate::Refund), "back-office refund");
    assert_eq!(label(FormTemplate::Cancellation), "back-office cancellation");
    assert_eq!(label(FormTemplate::Validation), "back-office validation");
    assert_eq!(label(FormTemplate::TokenCreation), "back-office token creation");
    let refused = FormBuilder::new(FormTemplate::Refused, SHOP).sign(b"1122334455667788", FormAlgorithm::HmacSha256);
    assert_eq!(verify(&v, &refused).unwrap().status_class(), StatusClass::Failed);
}

#[test]
fn browser_return_goes_to_the_return_endpoint() {
    let r = FormBuilder::new(FormTemplate::Accepted, SHOP)
        .browser_return()
        .sign(b"1122334455667788", FormAlgorithm::HmacSha256);
    assert!(matches!(verify(&verifier(), &r), Err(Error::WrongEndpoint(_))));
    assert!(verify(&verifier().endpoint(Endpoint::Return), &r).is_ok());
}

#[test]
fn rest_templates_verify_per_endpoint_key() {
    let v = verifier();
    for template in RestTemplate::ALL {
        let b = RestBuilder::new(template, SHOP).set("orderDetails.orderId", json!("order-9")).unwrap();
        let n = verify(&v, &b.sign(b"testpassword_X", Endpoint::Ipn)).unwrap();
        assert_eq!(n.order_id(), Some("order-9"));
        let ret = b.sign(b"hmac-key-X", Endpoint::Return);
        assert!(verify(&v.clone().endpoint(Endpoint::Return), &ret).is_ok());
        assert!(verify(&v, &ret).is_err(), "a return is not an IPN");
    }
}

#[test]
fn link_templates_verify_with_every_digest_style() {
    let v = verifier();
    for template in LinkTemplate::ALL {
        for style in [DigestStyle::Rfc3230, DigestStyle::HexBase64, DigestStyle::ContentDigest] {
            let r = LinkBuilder::new(template, APP).digest(style).with_authorization(true).sign(b"app!secret").unwrap();
            let n = verify(&v, &r).unwrap();
            assert_eq!(n.status(), Some(template.status()));
            let bad = LinkBuilder::new(template, APP).sign(b"other").unwrap();
            assert!(matches!(verify(&v, &bad), Err(Error::SignatureMismatch)));
        }
    }
}
