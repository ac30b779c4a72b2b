//! The middleware's behaviour on each kind of request, through `actix_web::test::init_service`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::test::{self, TestRequest};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpMessage};
use common::{Seen, answer, duplicate, fail, form_vector, raw, record, rest_only, send, stream_payload};
use futures_util::{StreamExt, stream};
use ipn_actix::IpnMiddleware;
use ipn_actix::ipn_core::{Outcome, Verifier};

const PAY_ACCEPTED: &str = "form-ipn-pay-accepted";
const ORDER_UPDATED: &str = "Order successfully updated.";

fn verifier() -> Verifier {
    Verifier::new(form_vector(PAY_ACCEPTED).keys)
}

fn middleware() -> IpnMiddleware {
    IpnMiddleware::new(verifier())
}

/// A shop: the IPN routes in a wrapped scope, one unwrapped route using the extractor, and an
/// ordinary route outside the scope.
fn shop(middleware: IpnMiddleware, seen: web::Data<Seen>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .app_data(seen)
            .service(
                web::scope("/shop")
                    .wrap(middleware)
                    .route("/ipn", web::post().to(record))
                    .route("/ipn/duplicate", web::post().to(duplicate))
                    .route("/ipn/fail", web::post().to(fail))
                    .route("/ipn/raw", web::post().to(raw))
                    .route("/ipn/rest", web::post().to(rest_only)),
            )
            .route("/unwrapped", web::post().to(record))
            .route("/health", web::get().to(|| async { "ok" }))
            .route("/health", web::post().to(|body: Bytes| async move { format!("{} bytes", body.len()) }));
    }
}

fn post(uri: &str) -> TestRequest {
    form_vector(PAY_ACCEPTED).request().uri(uri)
}

#[actix_web::test]
async fn authentic_notification_reaches_the_handler_through_a_wrapped_scope() {
    let seen = Seen::data();
    let app = test::init_service(App::new().configure(shop(middleware(), seen.clone()))).await;
    assert_eq!(send(&app, post("/shop/ipn").to_request()).await, answer(200, ORDER_UPDATED));
    let notifications = seen.notifications.lock().unwrap();
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0].order_id(), Some("ORDER-1042"));
    assert_eq!(notifications[0].merchant_id(), "12345678");
}

#[actix_web::test]
async fn authentic_notification_reaches_the_handler_through_a_wrapped_resource() {
    let seen = Seen::data();
    let app = test::init_service(
        App::new()
            .app_data(seen.clone())
            .service(web::resource("/ipn").wrap(middleware()).route(web::post().to(record))),
    )
    .await;
    assert_eq!(send(&app, post("/ipn").to_request()).await, answer(200, ORDER_UPDATED));
    assert_eq!(seen.calls(), 1);
}

#[actix_web::test]
async fn handler_answering_already_processed_is_answered_200() {
    let seen = Seen::data();
    let app = test::init_service(App::new().configure(shop(middleware(), seen.clone()))).await;
    let reply = send(&app, post("/shop/ipn/duplicate").to_request()).await;
    assert_eq!(reply, answer(200, "Notification already processed."));
    assert_eq!(seen.calls(), 1);
}

#[actix_web::test]
async fn handler_error_is_answered_500_update_failed_so_the_gateway_retries() {
    let seen = Seen::data();
    let app = test::init_service(App::new().configure(shop(middleware(), seen.clone()))).await;
    let reply = send(&app, post("/shop/ipn/fail").to_request()).await;
    assert_eq!(reply, answer(500, "An error occurred while updating the order."));
    assert_eq!(seen.calls(), 1, "the handler ran and failed");
}

#[actix_web::test]
async fn empty_post_is_answered_400_post_is_empty_without_calling_the_handler() {
    let seen = Seen::data();
    let app = test::init_service(App::new().configure(shop(middleware(), seen.clone()))).await;
    for body in ["", "  \r\n"] {
        let request = post("/shop/ipn").set_payload(body).to_request();
        assert_eq!(send(&app, request).await, answer(400, "POST is empty."));
    }
    let without_content_type = TestRequest::post().uri("/shop/ipn").to_request();
    assert_eq!(send(&app, without_content_type).await, answer(400, "POST is empty."));
    assert_eq!(seen.calls(), 0);
}

#[actix_web::test]
async fn body_over_the_limit_with_content_length_is_answered_413_and_at_the_limit_is_accepted() {
    let seen = Seen::data();
    let len = form_vector(PAY_ACCEPTED).body.len();
    let small = test::init_service(
        App::new().configure(shop(IpnMiddleware::new(verifier().max_body_bytes(len - 1)), seen.clone())),
    )
    .await;
    assert_eq!(send(&small, post("/shop/ipn").to_request()).await, answer(413, "Notification body too large."));
    assert_eq!(seen.calls(), 0);

    let exact = test::init_service(
        App::new().configure(shop(IpnMiddleware::new(verifier().max_body_bytes(len)), seen.clone())),
    )
    .await;
    assert_eq!(send(&exact, post("/shop/ipn").to_request()).await, answer(200, ORDER_UPDATED));
    assert_eq!(seen.calls(), 1);
}

#[actix_web::test]
async fn streamed_body_over_the_limit_without_content_length_is_answered_413_and_reading_stops() {
    let seen = Seen::data();
    let app = test::init_service(
        App::new().configure(shop(IpnMiddleware::new(verifier().max_body_bytes(1024)), seen.clone())),
    )
    .await;
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let chunks = stream::iter(0..100).map(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(Bytes::from(vec![b'a'; 400]))
    });
    let request = TestRequest::post()
        .uri("/shop/ipn")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .to_request();
    assert!(request.headers().get("content-length").is_none());
    let (request, _) = request.replace_payload(stream_payload(chunks));
    assert_eq!(send(&app, request).await, answer(413, "Notification body too large."));
    assert_eq!(pulled.load(Ordering::SeqCst), 3, "400 + 400 fit in 1024, the third chunk crosses it");
    assert_eq!(seen.calls(), 0);
}

#[actix_web::test]
async fn streamed_body_within_the_limit_without_content_length_is_verified() {
    let seen = Seen::data();
    let vector = form_vector(PAY_ACCEPTED);
    let app = test::init_service(
        App::new().configure(shop(IpnMiddleware::new(verifier().max_body_bytes(vector.body.len())), seen.clone())),
    )
    .await;
    let body = Bytes::from(vector.body.clone());
    let chunks: Vec<_> = [0..100, 100..1000, 1000..body.len()].into_iter().map(|r| Ok(body.slice(r))).collect();
    let request = vector.request_without_body().uri("/shop/ipn/raw").to_request();
    let (request, _) = request.replace_payload(stream_payload(stream::iter(chunks)));
    assert_eq!(send(&app, request).await, answer(200, ORDER_UPDATED));
    assert_eq!(seen.bodies.lock().unwrap().as_slice(), [body]);
}

#[actix_web::test]
async fn wrong_content_type_is_answered_415_without_calling_the_handler() {
    let seen = Seen::data();
    let app = test::init_service(App::new().configure(shop(middleware(), seen.clone()))).await;
    for content_type in ["text/plain", "multipart/form-data; boundary=x", "application/xml"] {
        let request = post("/shop/ipn").insert_header(("content-type", content_type)).to_request();
        assert_eq!(send(&app, request).await, answer(415, "Unsupported content type for a notification."));
    }
    assert_eq!(seen.calls(), 0);
}

#[actix_web::test]
async fn get_is_answered_405_on_a_wrapped_scope_and_on_a_wrapped_resource() {
    let seen = Seen::data();
    let app = test::init_service(
        App::new()
            .configure(shop(middleware(), seen.clone()))
            .service(web::resource("/ipn").wrap(middleware()).route(web::post().to(record))),
    )
    .await;
    for uri in ["/shop/ipn", "/ipn"] {
        let reply = send(&app, TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(reply, answer(405, "Notifications must be sent with POST."), "{uri}");
    }
    assert_eq!(seen.calls(), 0);
}

#[actix_web::test]
async fn extractor_on_a_route_without_the_middleware_answers_500_not_wrapped() {
    let seen = Seen::data();
    let app = test::init_service(App::new().configure(shop(middleware(), seen.clone()))).await;
    let reply = send(&app, post("/unwrapped").to_request()).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.body, "No verified notification: this route is not wrapped by the IPN middleware.");
    assert_eq!(seen.calls(), 0);
}

#[actix_web::test]
async fn extractor_of_another_scheme_answers_400_wrong_scheme_without_calling_the_handler() {
    let seen = Seen::data();
    let app = test::init_service(App::new().configure(shop(middleware(), seen.clone()))).await;
    let reply = send(&app, post("/shop/ipn/rest").to_request()).await;
    assert_eq!(reply, answer(400, "This endpoint takes rest notifications; received a form notification."));
    assert_eq!(seen.calls(), 0);
}

#[actix_web::test]
async fn handler_can_read_the_raw_body_after_verification() {
    let seen = Seen::data();
    let app = test::init_service(App::new().configure(shop(middleware(), seen.clone()))).await;
    assert_eq!(send(&app, post("/shop/ipn/raw").to_request()).await, answer(200, ORDER_UPDATED));
    let body = Bytes::from(form_vector(PAY_ACCEPTED).body);
    assert_eq!(seen.bodies.lock().unwrap().as_slice(), [body]);
}

#[actix_web::test]
async fn routes_outside_the_wrapped_scope_are_unaffected() {
    let seen = Seen::data();
    let app = test::init_service(App::new().configure(shop(middleware(), seen.clone()))).await;
    assert_eq!(send(&app, TestRequest::get().uri("/health").to_request()).await, answer(200, "ok"));
    let empty_post = TestRequest::post().uri("/health").insert_header(("content-type", "text/plain")).to_request();
    assert_eq!(send(&app, empty_post).await, answer(200, "0 bytes"));
}

#[actix_web::test]
async fn test_mode_notification_is_refused_403_when_test_mode_is_not_accepted() {
    let seen = Seen::data();
    let app = test::init_service(
        App::new().configure(shop(IpnMiddleware::new(verifier().accept_test_mode(false)), seen.clone())),
    )
    .await;
    let reply = send(&app, post("/shop/ipn").to_request()).await;
    assert_eq!(reply, answer(403, "TEST mode notifications are not accepted."));
    let production = form_vector("form-ipn-production-key").request().uri("/shop/ipn").to_request();
    assert_eq!(send(&app, production).await, answer(200, ORDER_UPDATED));
    assert_eq!(seen.calls(), 1);
}

#[actix_web::test]
async fn reply_overrides_change_the_middleware_replies() {
    let seen = Seen::data();
    let middleware = IpnMiddleware::new(
        ipn_core::Receiver::new(verifier()).reply(Outcome::EmptyPost, 400, "KO-POST is empty.").reply(
            Outcome::BadSignature,
            403,
            "KO-Invalid IPN request received.",
        ),
    );
    let app = test::init_service(App::new().configure(shop(middleware, seen.clone()))).await;
    let empty = post("/shop/ipn").set_payload("").to_request();
    assert_eq!(send(&app, empty).await, answer(400, "KO-POST is empty."));
    let tampered = form_vector("form-ipn-tampered-amount").request().uri("/shop/ipn").to_request();
    assert_eq!(send(&app, tampered).await, answer(403, "KO-Invalid IPN request received."));
    assert_eq!(seen.calls(), 0);
}

#[actix_web::test]
async fn huge_declared_length_under_a_huge_limit_is_not_reserved_up_front() {
    let seen = Seen::data();
    let app = test::init_service(
        App::new().configure(shop(IpnMiddleware::new(verifier().max_body_bytes(usize::MAX)), seen.clone())),
    )
    .await;
    let vector = form_vector(PAY_ACCEPTED);
    let request = vector
        .request_without_body()
        .uri("/shop/ipn")
        .insert_header(("content-length", "1000000000000000000"))
        .to_request();
    let (request, _) = request.replace_payload(stream_payload(stream::iter([Ok(Bytes::from(vector.body))])));
    assert_eq!(send(&app, request).await, answer(200, ORDER_UPDATED));
    assert_eq!(seen.calls(), 1);
}

/// A body not all there when the middleware first reads it: the read timeout starts then; a body
/// completed within it is verified, one that stalls past it is answered 408.
#[actix_web::test]
async fn a_late_body_is_verified_within_the_read_timeout_and_answered_408_past_it() {
    use std::time::Duration;

    let vector = form_vector(PAY_ACCEPTED);
    let body = Bytes::from(vector.body.clone());
    let late = |delay: Duration| {
        let (head, tail) = (body.slice(..100), body.slice(100..));
        let chunks = stream::iter([Ok(head)]).chain(stream::once(async move {
            actix_web::rt::time::sleep(delay).await;
            Ok(tail)
        }));
        stream_payload(chunks)
    };
    let timeout = Duration::from_millis(200);
    let seen = Seen::data();
    let app =
        test::init_service(App::new().configure(shop(
            IpnMiddleware::new(ipn_core::Receiver::new(verifier()).read_timeout(timeout)),
            seen.clone(),
        )))
        .await;

    let (request, _) = vector.request().uri("/shop/ipn").to_request().replace_payload(late(Duration::from_millis(20)));
    assert_eq!(send(&app, request).await, answer(200, ORDER_UPDATED));
    assert_eq!(seen.notifications.lock().unwrap().len(), 1);

    let (request, _) = vector.request().uri("/shop/ipn").to_request().replace_payload(late(Duration::from_secs(5)));
    let started = std::time::Instant::now();
    let timed_out = ipn_actix::ipn_core::Reply::for_outcome(Outcome::RequestTimeout);
    assert_eq!(send(&app, request).await, answer(408, timed_out.body()));
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert_eq!(seen.notifications.lock().unwrap().len(), 1, "the handler is not called");
}
