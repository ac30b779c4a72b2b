//! The notifications posted during a run: the testkit's realistic accepted-payment form (~55
//! `vads_*` fields), signed with the public TEST key of the conformance vectors, each with its own
//! `vads_trans_uuid` and `vads_order_id` (so each has its own idempotency fingerprint).

use ipn_core::testkit::{FormBuilder, FormTemplate};
use ipn_core::{FormAlgorithm, Keys, Mode, ShopKeys, Verifier};

/// The shop of the conformance vectors (`ipn-core/tests/vectors/form-ipn-pay-accepted.json`).
pub const SHOP_ID: &str = "12345678";
/// Its public TEST key.
pub const TEST_KEY: &str = "1122334455667788";
/// Its public PRODUCTION key.
pub const PRODUCTION_KEY: &str = "8877665544332211";

/// The verifier of the `ipn` routes: the vectors' shop and keys, HMAC-SHA-256, TEST mode accepted
/// (the notifications posted are TEST ones).
///
/// # Panics
///
/// Never: the keys are constant and valid.
pub fn verifier() -> Verifier {
    let shop = ShopKeys::new(SHOP_ID)
        .form_key(Mode::Test, TEST_KEY)
        .form_key(Mode::Production, PRODUCTION_KEY)
        .accept_test_mode(true);
    Verifier::new(Keys::builder().shop(shop).build().expect("the vector keys are valid"))
}

/// `count` distinct signed bodies (`application/x-www-form-urlencoded`), of the same length to a
/// few bytes (the percent-encoding of the base64 signature varies).
///
/// Notification `i` has `vads_trans_uuid` = `i` in 32 hex digits and `vads_order_id` =
/// `ORDER-` and `i` in 9 digits; every other field is the template's (dated now).
pub fn form_bodies(count: usize) -> Vec<Vec<u8>> {
    let template = FormBuilder::new(FormTemplate::Accepted, SHOP_ID).mode(Mode::Test);
    (0..count)
        .map(|i| {
            template
                .clone()
                .set("vads_trans_uuid", format!("{i:032x}"))
                .set("vads_order_id", format!("ORDER-{i:09}"))
                .sign(TEST_KEY.as_bytes(), FormAlgorithm::HmacSha256)
                .body()
                .to_vec()
        })
        .collect()
}

/// The content type the gateway sends with a form notification.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_distinct_same_length_and_verify() {
        let bodies = form_bodies(3);
        assert_ne!(bodies[0], bodies[1]);
        assert!(bodies.iter().all(|b| b.len().abs_diff(bodies[0].len()) <= 16));
        assert!(bodies[0].len() > 1500, "{}", bodies[0].len());
        let request = ipn_core::testkit::RawRequest::post("/ipn", FORM_CONTENT_TYPE, bodies[2].clone());
        let verified = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(verifier().verify(request.view()));
        assert_eq!(verified.expect("valid").order_id(), Some("ORDER-000000002"));
    }
}
