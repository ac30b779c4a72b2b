//! `IpnLayer` on real axum routers, driven with `ServiceExt::oneshot`: the conformance vectors,
//! the layer's own replies, the extractors and handler replies, and wrapping only the IPN routes.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::{get, post};
use common::{Chunked, FORM, Vector, post as post_request, read};
use http::Request;
use ipn_core::{FormNotification, LinkNotification, Notification, Outcome, RequestView, RestNotification};
use ipn_tower::{HttpHeaders, Ipn, IpnError, IpnLayer, IpnReply};
use tower::ServiceExt;

type Seen = Arc<Mutex<Vec<Notification>>>;

/// An app with an IPN route wrapped by the layer that records what the handler saw, and other
/// routes left alone.
fn app(layer: IpnLayer, seen: Seen) -> Router {
    let ipn = Router::new()
        .route(
            "/ipn",
            post(move |Ipn(notification): Ipn<Notification>| async move {
                seen.lock().unwrap().push(notification);
                IpnReply::order_updated()
            }),
        )
        .route_layer(layer);
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/contact", post(|body: String| async move { format!("got {} bytes", body.len()) }))
        .merge(ipn)
}

fn pay_accepted() -> Vector {
    Vector::load("form-ipn-pay-accepted")
}

async fn call(router: Router, request: Request<Body>) -> (u16, String) {
    read(router.oneshot(request).await.unwrap()).await
}

#[tokio::test]
async fn every_form_vector_gets_its_reply_and_only_valid_ones_reach_the_handler() {
    let vectors = Vector::all_form_requests();
    assert!(vectors.len() >= 6, "expected the form vectors of ipn-core, found {}", vectors.len());
    for vector in vectors {
        let seen = Seen::default();
        let (status, body) = call(app(IpnLayer::new(vector.verifier()), seen.clone()), vector.request()).await;
        let seen = seen.lock().unwrap().clone();
        if vector.valid() {
            assert_eq!((status, body.as_str()), (200, "Order successfully updated."), "{}", vector.id);
            assert_eq!(seen.len(), 1, "{}", vector.id);
            let form = seen[0].as_form().unwrap_or_else(|| panic!("{}: not a form notification", vector.id));
            let expected = vector.expected_fields();
            assert!(!expected.is_empty(), "{}", vector.id);
            for (field, value) in expected {
                assert_eq!(form.get(&field), Some(value.as_str()), "{}: {field}", vector.id);
            }
            assert_eq!(seen[0].order_id(), form.get("vads_order_id"));
        } else {
            assert!(seen.is_empty(), "{}: an invalid notification reached the handler", vector.id);
            // The layer answers exactly what the core decides for the same request.
            let request = &vector.json["request"];
            let headers = [("content-type", FORM)];
            let view =
                RequestView::new("POST", request["target"].as_str().unwrap(), &headers, vector.body().as_bytes());
            let error = vector.verifier().verify(view).await.unwrap_err();
            let reply = ipn_core::Reply::for_outcome(error.outcome());
            assert_eq!((status, body.as_str()), (reply.status(), reply.body()), "{}", vector.id);
            assert_eq!(status, 401, "{}: signature failures are 401", vector.id);
        }
    }
}

#[tokio::test]
async fn tampered_amount_is_401_with_the_signature_stage_message() {
    let vector = Vector::load("form-ipn-tampered-amount");
    let seen = Seen::default();
    let (status, body) = call(app(IpnLayer::new(vector.verifier()), seen.clone()), vector.request()).await;
    assert_eq!((status, body.as_str()), (401, "An error occurred while computing the signature."));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn empty_post_is_400_post_is_empty() {
    let seen = Seen::default();
    let router = app(IpnLayer::new(pay_accepted().verifier()), seen.clone());
    let (status, body) = call(router, post_request("/ipn", FORM, "")).await;
    assert_eq!((status, body.as_str()), (400, "POST is empty."));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn rejections_are_plain_text_utf8() {
    let router = app(IpnLayer::new(pay_accepted().verifier()), Seen::default());
    let response = router.oneshot(post_request("/ipn", FORM, "")).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
}

#[tokio::test]
async fn declared_length_over_the_limit_is_413_without_reading_the_body() {
    let seen = Seen::default();
    let router = app(IpnLayer::new(pay_accepted().verifier().max_body_bytes(100)), seen.clone());
    // Reading this body fails: a 413 proves the length alone decided.
    let body = Chunked::body([Err(std::io::Error::other("must not be read"))]);
    let request =
        Request::post("/ipn").header("content-type", FORM).header("content-length", "101").body(body).unwrap();
    let (status, body) = call(router, request).await;
    assert_eq!((status, body.as_str()), (413, "Notification body too large."));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn streamed_body_over_the_limit_without_length_is_413() {
    let vector = pay_accepted();
    let seen = Seen::default();
    let limit = vector.body().len() - 1;
    let router = app(IpnLayer::new(vector.verifier().max_body_bytes(limit)), seen.clone());
    let (head, tail) = vector.body().as_bytes().split_at(limit / 2);
    // Reading stops at the limit: the error after it is never reached.
    let past_the_limit = Err(std::io::Error::other("read past the limit"));
    let body = Chunked::body([Ok(Bytes::copy_from_slice(head)), Ok(Bytes::copy_from_slice(tail)), past_the_limit]);
    let request = Request::post("/ipn").header("content-type", FORM).body(body).unwrap();
    assert!(request.headers().get("content-length").is_none());
    let (status, body) = call(router, request).await;
    assert_eq!((status, body.as_str()), (413, "Notification body too large."));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn streamed_body_within_the_limit_is_verified() {
    let vector = pay_accepted();
    let seen = Seen::default();
    let router = app(IpnLayer::new(vector.verifier().max_body_bytes(vector.body().len())), seen.clone());
    let chunks = vector.body().as_bytes().chunks(100).map(|c| Ok(Bytes::copy_from_slice(c))).collect::<Vec<_>>();
    let request = Request::post("/ipn").header("content-type", FORM).body(Chunked::body(chunks)).unwrap();
    let (status, _) = call(router, request).await;
    assert_eq!(status, 200);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn body_read_error_is_400_and_the_handler_is_not_called() {
    let seen = Seen::default();
    let router = app(IpnLayer::new(pay_accepted().verifier()), seen.clone());
    let body = Chunked::body([Ok(Bytes::from_static(b"vads_site_id=1")), Err(std::io::Error::other("reset"))]);
    let request = Request::post("/ipn").header("content-type", FORM).body(body).unwrap();
    let (status, _) = call(router, request).await;
    assert_eq!(status, 400);
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let vector = pay_accepted();
    let seen = Seen::default();
    let router = app(IpnLayer::new(vector.verifier()), seen.clone());
    let (status, body) = call(router, post_request("/ipn", "text/plain", vector.body().to_owned())).await;
    assert_eq!((status, body.as_str()), (415, "Unsupported content type for a notification."));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn get_on_the_ipn_route_is_405() {
    let seen = Seen::default();
    let router = app(IpnLayer::new(pay_accepted().verifier()), seen.clone());
    let response = router.oneshot(Request::get("/ipn").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_path_stays_404() {
    let router = app(IpnLayer::new(pay_accepted().verifier()), Seen::default());
    let response = router.oneshot(post_request("/nope", FORM, "vads_site_id=1")).await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn routes_outside_the_layer_are_unaffected() {
    let router = app(IpnLayer::new(pay_accepted().verifier()), Seen::default());
    let (status, body) = call(router.clone(), Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    // A form post that is no notification reaches its handler untouched.
    let (status, body) = call(router, post_request("/contact", "text/plain", "hello")).await;
    assert_eq!((status, body.as_str()), (200, "got 5 bytes"));
}

#[tokio::test]
async fn method_router_route_layer_wraps_only_the_post_handler() {
    let vector = pay_accepted();
    let router = Router::new().route(
        "/ipn",
        post(|Ipn(n): Ipn<FormNotification>| async move { format!("paid {}", n.order_id().unwrap_or("-")) })
            .route_layer(IpnLayer::new(vector.verifier()))
            .get(|| async { "the notification URL" }),
    );
    let (status, body) = call(router.clone(), vector.request()).await;
    assert_eq!((status, body.as_str()), (200, "paid ORDER-1042"));
    let (status, body) = call(router.clone(), Request::get("/ipn").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body.as_str()), (200, "the notification URL"));
    let (status, body) = call(router.clone(), post_request("/ipn", FORM, "")).await;
    assert_eq!((status, body.as_str()), (400, "POST is empty."));
    let response = router.oneshot(Request::delete("/ipn").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn nested_ipn_router_keeps_404_for_other_paths() {
    let vector = pay_accepted();
    let ipn = Router::new()
        .route("/ipn", post(|| async { IpnReply::order_updated() }))
        .route_layer(IpnLayer::new(vector.verifier()));
    let router = Router::new().nest("/payments", ipn);
    let mut request = vector.request();
    *request.uri_mut() = "/payments/ipn".parse().unwrap();
    let (status, body) = call(router.clone(), request).await;
    assert_eq!((status, body.as_str()), (200, "Order successfully updated."));
    let response = router.oneshot(post_request("/payments/other", FORM, "x=1")).await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn handler_error_is_500_update_failed() {
    let vector = pay_accepted();
    let router = Router::new()
        .route(
            "/ipn",
            post(|Ipn(n): Ipn<Notification>| async move {
                let _amount: u32 = n.merchant_id().replace('1', "x").parse()?;
                Ok::<_, IpnError>(IpnReply::order_updated())
            }),
        )
        .route_layer(IpnLayer::new(vector.verifier()));
    let (status, body) = call(router, vector.request()).await;
    assert_eq!((status, body.as_str()), (500, "An error occurred while updating the order."));
}

#[tokio::test]
async fn handler_success_is_200_order_updated_and_duplicates_200_already_processed() {
    let vector = pay_accepted();
    let processed = Arc::new(Mutex::new(Vec::<String>::new()));
    let router = Router::new()
        .route(
            "/ipn",
            post(move |Ipn(n): Ipn<Notification>| async move {
                let fingerprint = format!("{:?}", n.fingerprint());
                let mut done = processed.lock().unwrap();
                if done.contains(&fingerprint) {
                    return Ok::<_, IpnError>(IpnReply::already_processed());
                }
                done.push(fingerprint);
                Ok(IpnReply::order_updated())
            }),
        )
        .route_layer(IpnLayer::new(vector.verifier()));
    let (status, body) = call(router.clone(), vector.request()).await;
    assert_eq!((status, body.as_str()), (200, "Order successfully updated."));
    let (status, body) = call(router, vector.request()).await;
    assert_eq!((status, body.as_str()), (200, "Notification already processed."));
}

#[tokio::test]
async fn reply_overrides_apply_to_layer_and_handler_replies() {
    let vector = pay_accepted();
    let layer = IpnLayer::new(
        ipn_core::Receiver::new(vector.verifier())
            .reply(Outcome::Processed, 200, "OK-Accepted payment, order has been updated.")
            .reply(Outcome::EmptyPost, 400, "KO-Empty POST.")
            .reply(Outcome::ProcessingFailed, 503, "KO-Try again."),
    );
    let router = Router::new()
        .route("/ipn", post(|| async { IpnReply::order_updated() }))
        .route("/failing", post(|| async { Err::<IpnReply, _>(IpnError::from("database down")) }))
        .route("/custom", post(|| async { IpnReply::from(ipn_core::Reply::new(202, "as is")) }))
        .route_layer(layer);
    let (status, body) = call(router.clone(), vector.request()).await;
    assert_eq!((status, body.as_str()), (200, "OK-Accepted payment, order has been updated."));
    let (status, body) = call(router.clone(), post_request("/ipn", FORM, "")).await;
    assert_eq!((status, body.as_str()), (400, "KO-Empty POST."));
    let mut failing = vector.request();
    *failing.uri_mut() = "/failing".parse().unwrap();
    let (status, body) = call(router.clone(), failing).await;
    assert_eq!((status, body.as_str()), (503, "KO-Try again."));
    let mut custom = vector.request();
    *custom.uri_mut() = "/custom".parse().unwrap();
    let (status, body) = call(router, custom).await;
    assert_eq!((status, body.as_str()), (202, "as is"));
}

#[tokio::test]
async fn test_mode_refused_is_403_when_the_layer_refuses_it() {
    let vector = pay_accepted();
    let seen = Seen::default();
    let router = app(IpnLayer::new(vector.verifier().accept_test_mode(false)), seen.clone());
    let (status, body) = call(router, vector.request()).await;
    assert_eq!((status, body.as_str()), (403, "TEST mode notifications are not accepted."));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn missing_layer_is_500_not_wrapped() {
    let vector = pay_accepted();
    let router = Router::new().route("/ipn", post(|Ipn(_n): Ipn<Notification>| async { IpnReply::order_updated() }));
    let response = router.oneshot(vector.request()).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
    let (status, body) = read(response).await;
    assert_eq!(status, 500);
    assert_eq!(body, "No verified notification: this route is not wrapped by the IPN middleware.");
}

#[tokio::test]
async fn extractor_of_another_scheme_is_400() {
    let vector = pay_accepted();
    let router = Router::new()
        .route("/rest", post(|Ipn(_n): Ipn<RestNotification>| async { IpnReply::order_updated() }))
        .route("/link", post(|Ipn(_n): Ipn<LinkNotification>| async { IpnReply::order_updated() }))
        .route_layer(IpnLayer::new(vector.verifier()));
    for (path, expected) in [("/rest", "rest"), ("/link", "link")] {
        let mut request = vector.request();
        *request.uri_mut() = path.parse().unwrap();
        let (status, body) = call(router.clone(), request).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body, format!("This endpoint takes {expected} notifications; received a form notification."));
    }
}

#[tokio::test]
async fn raw_body_is_still_readable_by_the_handler() {
    let vector = pay_accepted();
    let router = Router::new()
        .route(
            "/ipn",
            post(|Ipn(n): Ipn<FormNotification>, raw: Bytes| async move {
                // The notification's text is the body the handler reads, not a copy of it.
                let shared = raw.as_ptr_range().contains(&n.shop_id().as_ptr());
                format!("{} {shared} {}", n.shop_id(), String::from_utf8_lossy(&raw))
            }),
        )
        .route_layer(IpnLayer::new(vector.verifier()));
    let (status, body) = call(router, vector.request()).await;
    assert_eq!(status, 200);
    assert_eq!(body, format!("12345678 true {}", vector.body()));
}

#[tokio::test]
async fn layer_debug_never_shows_a_key() {
    let vector = pay_accepted();
    let layer = IpnLayer::new(vector.verifier());
    let text = format!("{layer:?}");
    assert!(text.contains("IpnLayer"));
    for key in ["1122334455667788", "8877665544332211"] {
        assert!(!text.contains(key), "{text}");
    }
}

#[test]
fn layer_and_service_are_clone_debug_send_sync() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync + 'static>() {}
    assert_traits::<IpnLayer>();
    assert_traits::<ipn_tower::IpnService<axum::routing::Route>>();
    let map = http::HeaderMap::new();
    let _ = HttpHeaders(&map);
}
