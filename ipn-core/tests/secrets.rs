//! No configured key ever shows: not in `Debug` of any type that holds one, not in errors nor
//! replies, not in `tracing` output (captured at TRACE level with a test subscriber), whatever
//! the request: valid, forged, signed with a neighbouring key, or partially matching.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use ipn_core::testkit::{FormBuilder, FormTemplate, LinkBuilder, LinkTemplate, RawRequest, RestBuilder, RestTemplate};
use ipn_core::trace::Trace;
use ipn_core::{Config, Endpoint, FormAlgorithm, Keys, Mode, Receiver, ShopKeys, Verifier};

const SHOP: &str = "12345678";
const FORM_TEST: &str = "FORMTESTKEY-5f1c9e";
const FORM_PROD: &str = "FORMPRODKEY-a7d302";
const REST_PASSWORD: &str = "RESTPASSWORD-0b44e1";
const REST_HMAC: &str = "RESTHMACKEY-c39a77";
const APP: &str = "fbab3ccc-719e-11ed-93ad-02420a0003c1";
const APP_SECRET: &str = "APPSECRET-91e0d4";
const ALL: [&str; 5] = [FORM_TEST, FORM_PROD, REST_PASSWORD, REST_HMAC, APP_SECRET];

fn assert_clean(what: &str, text: &str) {
    for secret in ALL {
        assert!(!text.contains(secret), "{what} contains a key: {text}");
        // Not even a recognisable part of one.
        assert!(!text.contains(&secret[..secret.len() - 3]), "{what} contains part of a key: {text}");
    }
}

fn keys() -> Keys {
    Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .form_key(Mode::Test, FORM_TEST)
                .form_key(Mode::Production, FORM_PROD)
                .rest_password(Mode::Test, REST_PASSWORD)
                .rest_hmac_key(Mode::Test, REST_HMAC)
                .accept_test_mode(true),
        )
        .application(APP, APP_SECRET)
        .build()
        .unwrap()
}

/// Valid requests, and requests signed with the wrong one of our own keys.
fn requests() -> Vec<RawRequest> {
    let form = |key: &str, mode| {
        FormBuilder::new(FormTemplate::Accepted, SHOP).mode(mode).sign(key.as_bytes(), FormAlgorithm::HmacSha256)
    };
    let mut out = vec![
        form(FORM_TEST, Mode::Test),
        form(FORM_PROD, Mode::Test),
        form(FORM_TEST, Mode::Production),
        FormBuilder::new(FormTemplate::Refused, SHOP).sign(FORM_TEST.as_bytes(), FormAlgorithm::Sha1),
        RestBuilder::new(RestTemplate::Payment, SHOP).sign(REST_PASSWORD.as_bytes(), Endpoint::Ipn),
        RestBuilder::new(RestTemplate::Payment, SHOP).sign(REST_HMAC.as_bytes(), Endpoint::Ipn),
        RestBuilder::new(RestTemplate::Payment, SHOP).sign(REST_PASSWORD.as_bytes(), Endpoint::Return),
        LinkBuilder::new(LinkTemplate::ALL[0], APP).sign(APP_SECRET.as_bytes()).unwrap(),
        LinkBuilder::new(LinkTemplate::ALL[0], APP).sign(FORM_TEST.as_bytes()).unwrap(),
    ];
    // A body that carries a key as a value: the key may appear where the sender put it (the body),
    // so it is not part of this test; the forged signature must not echo anything else.
    let mut forged = form(FORM_TEST, Mode::Test);
    forged.set_body(format!("{}&vads_extra=1", String::from_utf8_lossy(forged.body())));
    out.push(forged);
    out
}

#[test]
fn debug_of_every_type_holding_a_key_is_redacted() {
    let keys = keys();
    assert_clean("Keys", &format!("{keys:?}"));
    let verifier = Verifier::new(keys.clone());
    assert_clean("Verifier", &format!("{verifier:?}"));
    let receiver = Receiver::new(verifier);
    assert_clean("Receiver", &format!("{receiver:?}"));
    let config = Config::from_toml(&format!(
        r#"
[[shops]]
shop_id = "{SHOP}"
accept_test_mode = true
[shops.form]
algorithm = "hmac-sha256"
test_key = "{FORM_TEST}"
production_key = "{FORM_PROD}"
[shops.rest]
test_password = "{REST_PASSWORD}"
test_hmac_key = "{REST_HMAC}"

[[applications]]
application_id = "{APP}"
secret = "{APP_SECRET}"
"#
    ))
    .unwrap();
    assert_clean("Config", &format!("{config:?}"));
    assert_clean("Config verifier", &format!("{:?}", Verifier::from_config(config)));
}

#[test]
fn errors_replies_and_notifications_never_contain_a_key() {
    for endpoint in [Endpoint::Ipn, Endpoint::Return] {
        let receiver = Receiver::new(Verifier::new(keys()).accept_test_mode(true).endpoint(endpoint));
        for request in requests() {
            match pollster::block_on(receiver.receive(request.view())) {
                Ok(notification) => assert_clean("notification", &format!("{notification:?}")),
                Err(rejected) => {
                    assert_clean("rejection", &format!("{rejected} {rejected:?}"));
                    assert_clean("error", &format!("{} {:?}", rejected.error, rejected.error));
                    assert_clean("reply", rejected.reply.body());
                }
            }
        }
    }
}

/// A writer shared with the test: everything the subscriber formats lands in the buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn tracing_output_at_trace_level_never_contains_a_key() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let receiver = Receiver::new(Verifier::new(keys()).accept_test_mode(true));
    tracing::subscriber::with_default(subscriber, || {
        for request in requests() {
            let trace = Trace::start();
            let _entered = trace.span().enter();
            match pollster::block_on(receiver.receive(request.view())) {
                Ok(notification) => trace.notification(&notification),
                Err(rejected) => trace.rejected(&rejected),
            }
        }
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("notification rejected"), "the subscriber captured nothing useful: {text}");
    assert_clean("tracing output", &text);
}
