//! Property tests: sign with the testkit, verify with the core, for each scheme, over arbitrary
//! field sets and values (empty, non-ASCII, `+`, `&`, `=`, `%`, spaces, slashes); one changed value
//! is refused; and every reply, whatever the message, fits the gateway's 256 bytes.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;

use ipn_core::testkit::{DigestStyle, FormBuilder, LinkBuilder, LinkTemplate, RestBuilder, RestTemplate};
use ipn_core::{Endpoint, FormAlgorithm, Keys, MAX_REPLY_BYTES, Mode, Outcome, Receiver, Reply, ShopKeys, Verifier};
use proptest::prelude::*;
use serde_json::Value;

const SHOP: &str = "12345678";
const FORM_KEY: &str = "1122334455667788";
const REST_PASSWORD: &str = "testpassword_prop";
const APP: &str = "fbab3ccc-719e-11ed-93ad-02420a0003c1";
const APP_SECRET: &str = "app!secret-prop";

fn verifier(algorithm: FormAlgorithm) -> Verifier {
    let keys = Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .form_key(Mode::Test, FORM_KEY)
                .form_algorithm(algorithm)
                .rest_password(Mode::Test, REST_PASSWORD)
                .accept_test_mode(true),
        )
        .application(APP, APP_SECRET)
        .build()
        .unwrap();
    Verifier::new(keys).accept_test_mode(true)
}

/// Characters that stress encoding: separators, escapes, spaces, non-ASCII, controls.
fn value() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        Just('+'),
        Just('&'),
        Just('='),
        Just('%'),
        Just(' '),
        Just('/'),
        Just('\\'),
        Just('"'),
        Just('\n'),
        Just('é'),
        Just('€'),
        Just('😀'),
        Just('\u{0}'),
        proptest::char::range('a', 'z'),
        proptest::char::range('0', '9'),
        any::<char>(),
    ];
    proptest::collection::vec(chars, 0..24).prop_map(|c| c.into_iter().collect())
}

fn field_name() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![proptest::char::range('a', 'z'), Just('_'), Just('9')], 1..12)
        .prop_map(|c| format!("vads_x_{}", c.into_iter().collect::<String>()))
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn form_round_trips_any_field_set(
        fields in proptest::collection::btree_map(field_name(), value(), 0..12),
        unsigned in value(),
        sha1 in any::<bool>(),
    ) {
        let algorithm = if sha1 { FormAlgorithm::Sha1 } else { FormAlgorithm::HmacSha256 };
        let mut all: BTreeMap<String, String> = fields.clone();
        all.insert("vads_site_id".into(), SHOP.into());
        all.insert("vads_ctx_mode".into(), "TEST".into());
        all.insert("vads_hash".into(), "0d8b1a8f4ba7b1e6f1e7a4b6c1d9e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7".into());
        all.insert("vads_url_check_src".into(), "PAY".into());
        all.insert("vads_trans_date".into(), "20261120101500".into());
        all.insert("vads_version".into(), "V2".into());
        let builder = FormBuilder::from_fields(all.clone());
        let request = builder.clone().sign(FORM_KEY.as_bytes(), algorithm);
        // The generated names are not the gateway's: they are accepted as configured extras.
        let verifier = verifier(algorithm).extra_form_fields(fields.keys());
        let forbidden = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
        if let Some((name, _)) = fields.iter().find(|(_, v)| v.chars().any(forbidden)) {
            let refused = pollster::block_on(verifier.verify(request.view()));
            prop_assert!(matches!(&refused, Err(ipn_core::Error::InvalidField { name: n, .. }) if n == name), "{:?}", refused);
            return Ok(());
        }
        let notification = pollster::block_on(verifier.verify(request.view())).unwrap();
        let form = notification.as_form().unwrap();
        for (name, value) in &all {
            prop_assert_eq!(form.get(name), Some(value.as_str()));
        }
        // An unsigned field beside the signed ones is refused, whatever it holds.
        let with_unsigned = builder.set("note", unsigned).sign(FORM_KEY.as_bytes(), algorithm);
        let refused = pollster::block_on(verifier.verify(with_unsigned.view()));
        prop_assert!(matches!(&refused, Err(ipn_core::Error::UnknownField { name }) if name == "note"), "{:?}", refused);

        // Any one signed value changed, the signature kept: refused.
        if let Some(name) = fields.keys().next() {
            let body: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form_urlencoded::parse(request.body()).map(|(n, v)| {
                    let v = if n == name.as_str() { format!("{v}x") } else { v.into_owned() };
                    (n.into_owned(), v)
                }))
                .finish();
            let mut forged = request.clone();
            forged.set_body(body);
            prop_assert!(pollster::block_on(verifier.verify(forged.view())).is_err());
        }
    }

    #[test]
    fn rest_round_trips_any_order_id_and_metadata(
        order_id in value(),
        metadata in value(),
        escape_slashes in any::<bool>(),
    ) {
        let builder = RestBuilder::new(RestTemplate::Payment, SHOP)
            .set("orderDetails.orderId", Value::String(order_id.clone()))
            .unwrap()
            .set("transactions.0.metadata", serde_json::json!({ "note": metadata }))
            .unwrap()
            .escape_slashes(escape_slashes);
        let request = builder.sign(REST_PASSWORD.as_bytes(), Endpoint::Ipn);
        let notification = pollster::block_on(verifier(FormAlgorithm::HmacSha256).verify(request.view())).unwrap();
        prop_assert_eq!(notification.as_rest().unwrap().payment().order_details().order_id().unwrap_or(""), order_id.as_str());

        // Signed with another key: refused.
        let forged = builder.sign(b"another password", Endpoint::Ipn);
        prop_assert!(pollster::block_on(verifier(FormAlgorithm::HmacSha256).verify(forged.view())).is_err());
    }

    #[test]
    fn link_round_trips_any_id_and_digest_style(
        id in value().prop_filter("a link id is required", |s| !s.is_empty()),
        reason in value(),
        style in 0_usize..3,
        both in any::<bool>(),
    ) {
        let digest = [DigestStyle::Rfc3230, DigestStyle::HexBase64, DigestStyle::ContentDigest][style];
        let builder = LinkBuilder::new(LinkTemplate::ALL[0], APP)
            .set("id", Value::String(id.clone()))
            .unwrap()
            .set("result.statusReason", Value::String(reason))
            .unwrap()
            .digest(digest)
            .with_authorization(both);
        let request = builder.sign(APP_SECRET.as_bytes()).unwrap();
        let notification = pollster::block_on(verifier(FormAlgorithm::HmacSha256).verify(request.view())).unwrap();
        prop_assert_eq!(notification.as_link().unwrap().id(), id.as_str());

        let forged = builder.sign(b"another secret").unwrap();
        prop_assert!(pollster::block_on(verifier(FormAlgorithm::HmacSha256).verify(forged.view())).is_err());
    }

    #[test]
    fn every_reply_fits_in_256_bytes_on_a_char_boundary(message in value().prop_map(|v| v.repeat(20)), status in any::<u16>()) {
        let reply = Reply::new(status, message.clone());
        prop_assert!(reply.body().len() <= MAX_REPLY_BYTES);
        prop_assert!(message.starts_with(reply.body()));
        if message.len() <= MAX_REPLY_BYTES {
            prop_assert_eq!(reply.body(), message.as_str());
        }
        let receiver = Receiver::new(verifier(FormAlgorithm::HmacSha256));
        for outcome in Outcome::ALL {
            let reply = receiver.clone().reply(outcome, status, message.clone()).reply_for(outcome);
            prop_assert!(reply.body().len() <= MAX_REPLY_BYTES);
            prop_assert!((100..=999).contains(&reply.status()));
        }
    }
}
