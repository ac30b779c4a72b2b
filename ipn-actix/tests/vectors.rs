//! Every public `form` conformance vector through the middleware: the valid ones reach the handler
//! with the expected fields; the invalid ones get the core's reply and never reach it.

mod common;

use actix_web::App;
use actix_web::web;
use common::{Seen, Vector, answer, form_vectors, record, send};
use ipn_actix::IpnMiddleware;
use ipn_actix::ipn_core::{Receiver, RequestView, Verifier};

async fn through_the_middleware(vector: &Vector) -> (common::Answer, web::Data<Seen>) {
    let seen = Seen::data();
    let app = actix_web::test::init_service(
        App::new().app_data(seen.clone()).service(
            web::resource(vector.path())
                .wrap(IpnMiddleware::new(Verifier::new(vector.keys.clone())))
                .route(web::post().to(record)),
        ),
    )
    .await;
    (send(&app, vector.request().to_request()).await, seen)
}

#[test]
fn the_public_form_vectors_are_all_here() {
    let vectors = form_vectors();
    assert_eq!(vectors.len(), 6, "{:?}", vectors.iter().map(|v| &v.id).collect::<Vec<_>>());
    assert!(vectors.iter().any(|v| v.valid) && vectors.iter().any(|v| !v.valid));
}

#[actix_web::test]
async fn valid_form_vectors_reach_the_handler_with_their_fields() {
    for vector in form_vectors().iter().filter(|v| v.valid) {
        let (reply, seen) = through_the_middleware(vector).await;
        assert_eq!(reply, answer(200, "Order successfully updated."), "{}", vector.id);
        let notifications = seen.notifications.lock().unwrap();
        assert_eq!(notifications.len(), 1, "{}", vector.id);
        let form = notifications[0].as_form().unwrap();
        assert!(!vector.fields.is_empty(), "{}", vector.id);
        for (name, value) in &vector.fields {
            assert_eq!(form.get(name), Some(value.as_str()), "{}: {name}", vector.id);
        }
        let field = |name: &str| vector.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(Some(notifications[0].merchant_id()), field("vads_site_id"), "{}", vector.id);
        assert_eq!(notifications[0].order_id(), field("vads_order_id"), "{}", vector.id);
        assert_eq!(notifications[0].transaction_id(), field("vads_trans_uuid"), "{}", vector.id);
    }
}

#[actix_web::test]
async fn invalid_form_vectors_get_the_core_reply_and_never_reach_the_handler() {
    for vector in form_vectors().iter().filter(|v| !v.valid) {
        let (reply, seen) = through_the_middleware(vector).await;
        let receiver = Receiver::new(Verifier::new(vector.keys.clone()));
        let view = RequestView::new(&vector.method, &vector.target, &vector.headers, vector.body.as_bytes());
        let core = receiver.receive(view).await.unwrap_err().reply;
        assert_eq!(reply, answer(core.status(), core.body()), "{}", vector.id);
        assert!(!core.is_acknowledged(), "{}: the gateway must not count it as delivered", vector.id);
        assert_eq!(seen.calls(), 0, "{}", vector.id);
    }
}
