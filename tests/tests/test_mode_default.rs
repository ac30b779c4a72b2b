//! TEST-mode notifications through both adapters' default builders (`IpnLayer::new`,
//! `IpnMiddleware::new`): refused (`403`) unless a shop opts in or the layer / middleware accepts
//! TEST for every shop; both adapters answer the same.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use ipn_actix::IpnMiddleware;
use ipn_core::testkit::{FormBuilder, FormTemplate, RawRequest, RestBuilder, RestTemplate};
use ipn_core::{Endpoint, FormAlgorithm, Keys, Mode, Outcome, Receiver, Reply, ShopKeys, Verifier};
use ipn_tower::IpnLayer;
use support::{Answer, Body, Case, Handler, actix_answer, tower_answer};

const SHOP: &str = "12345678";
const FORM_KEY: &str = "1122334455667788";
const REST_PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";

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

fn requests(mode: Mode) -> [(&'static str, RawRequest); 2] {
    [
        (
            "form",
            FormBuilder::new(FormTemplate::Accepted, SHOP)
                .mode(mode)
                .sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256),
        ),
        (
            "rest",
            RestBuilder::new(RestTemplate::Payment, SHOP).mode(mode).sign(REST_PASSWORD.as_bytes(), Endpoint::Ipn),
        ),
    ]
}

/// The receivers both adapters make of `verifier`, after `accept_test_mode` when given: the same
/// policy (checked), so one case serves both adapters.
fn receiver(verifier: Verifier, accept_test_mode: Option<bool>) -> Receiver {
    let verifier = match accept_test_mode {
        Some(accept) => verifier.accept_test_mode(accept),
        None => verifier,
    };
    let (layer, middleware) = (IpnLayer::new(verifier.clone()), IpnMiddleware::new(verifier));
    let decided = layer.receiver().verifier().policy().accepts_test_mode();
    assert_eq!(decided, middleware.receiver().verifier().policy().accepts_test_mode());
    assert_eq!(decided, accept_test_mode);
    middleware.receiver().clone()
}

/// Both adapters answer `expected` to each request of `mode`.
async fn assert_both(receiver: &Receiver, mode: Mode, expected: &Reply) {
    for (scheme, request) in requests(mode) {
        let case = Case {
            name: format!("{scheme} {mode:?}"),
            receiver: receiver.clone(),
            wrapped: true,
            handler: Handler::Success,
            method: request.method().to_owned(),
            target: request.target().to_owned(),
            headers: request.headers().to_vec(),
            body: Body::Sized(request.body().to_vec()),
            expected: expected.clone(),
        };
        let (tower, actix) = (tower_answer(&case).await, actix_answer(&case).await);
        assert_eq!(tower, actix, "{}: the adapters differ", case.name);
        assert_eq!(tower, Answer::expected(expected), "{}", case.name);
    }
}

#[actix_web::test]
async fn refuses_test_notification_by_default() {
    let receiver = receiver(verifier(shop()), None);
    assert_both(&receiver, Mode::Test, &Reply::for_outcome(Outcome::TestModeRefused)).await;
    assert_both(&receiver, Mode::Production, &Reply::order_updated()).await;
}

#[actix_web::test]
async fn accepts_test_notification_when_the_shop_opts_in() {
    let receiver = receiver(verifier(shop().accept_test_mode(true)), None);
    assert_both(&receiver, Mode::Test, &Reply::order_updated()).await;
}

#[actix_web::test]
async fn the_layer_and_middleware_setting_decides_for_every_shop() {
    for opted_in in [false, true] {
        let shop = if opted_in { shop().accept_test_mode(true) } else { shop() };
        let accepting = receiver(verifier(shop.clone()), Some(true));
        assert_both(&accepting, Mode::Test, &Reply::order_updated()).await;
        let refusing = receiver(verifier(shop), Some(false));
        assert_both(&refusing, Mode::Test, &Reply::for_outcome(Outcome::TestModeRefused)).await;
        assert_both(&refusing, Mode::Production, &Reply::order_updated()).await;
    }
}
