//! The served apps called in process, without sockets: the request path of one route (the
//! framework's routing, the middleware, the handler, the response body) and nothing else, for
//! instruction counts under callgrind (which, unlike times, do not move with the other work on a
//! shared machine) and allocation counts.
//!
//! [`run`] builds the same app as [`server`](crate::server) once, then calls it `n` times (after
//! `n / 10` warm-up calls) on a current-thread runtime with prebuilt requests, each a distinct
//! valid notification (cycling through [`DISTINCT`], more than the store's capacity here, so that
//! every `ipn-store` request is a fresh notification, as in the load benchmark). The cost of
//! building each request is in every route alike: compare routes, and take the difference of two
//! values of `n` to drop the setup (`examples/inprocess.rs`).

use std::future::poll_fn;
use std::sync::Arc;

use bytes::Bytes;
use ipn_core::{Outcome, RequestView};

use crate::notifications::{FORM_CONTENT_TYPE, form_bodies};
use crate::probe::Probe;
use crate::server::{Framework, Options, Route};

/// How many distinct notifications are cycled through.
pub const DISTINCT: usize = 512;
/// The store's capacity in process: below [`DISTINCT`], so a notification has been evicted
/// before it comes again.
pub const STORE_CAPACITY: usize = DISTINCT / 2;

/// Calls `route` of `framework` `n / 10` times to warm up, then runs `between` (e.g. to read
/// allocation counters), then `n` times; every response must be `200`.
///
/// # Panics
///
/// A response is not `200`, or the runtime cannot be built.
pub fn run(framework: Framework, route: Route, n: usize, between: impl FnOnce()) {
    let bodies: Vec<Bytes> = form_bodies(DISTINCT).into_iter().map(Bytes::from).collect();
    let options = Options { framework, route, store_capacity: STORE_CAPACITY };
    match framework {
        Framework::Axum => axum(&options, &bodies, n, between),
        Framework::Actix => actix(&options, &bodies, n, between),
    }
}

/// The core's share of the `ipn` routes (`store`: `ipn-store`), without a framework: what
/// [`run`] does per request, less the framework and the adapter:
/// [`Receiver::admit`](ipn_core::Receiver::admit) over the same headers and bodies (shared, as
/// the adapters pass them), then [`Receiver::complete`](ipn_core::Receiver::complete), as the
/// adapters call them.
///
/// # Panics
///
/// A notification is refused.
pub fn run_core(store: bool, n: usize, between: impl FnOnce()) {
    let bodies: Vec<Bytes> = form_bodies(DISTINCT).into_iter().map(Bytes::from).collect();
    let route = if store { Route::IpnStore } else { Route::Ipn };
    let receiver = crate::server::receiver(route, STORE_CAPACITY);
    let mut between = Some(between);
    for i in 0..n / 10 + n {
        if i == n / 10
            && let Some(between) = between.take()
        {
            between();
        }
        let body = &bodies[i % bodies.len()];
        let length = body.len().to_string();
        let headers = [("content-type", FORM_CONTENT_TYPE), ("content-length", length.as_str())];
        let view = RequestView::shared("POST", "/ipn", &headers, body);
        pollster::block_on(async {
            let (notification, delivery) = receiver.admit(view).await.expect("a valid, fresh notification");
            std::hint::black_box(&notification);
            receiver.complete(delivery, 200, Some(Outcome::Processed)).await;
        });
    }
}

fn axum(options: &Options, bodies: &[Bytes], n: usize, between: impl FnOnce()) {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower_service::Service;

    let app = crate::server::axum_server::app(options, Arc::new(Probe::new(None)));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let mut between = Some(between);
        for i in 0..n / 10 + n {
            if i == n / 10
                && let Some(between) = between.take()
            {
                between();
            }
            let body = bodies[i % bodies.len()].clone();
            let request = Request::post("/ipn")
                .header(header::CONTENT_TYPE, FORM_CONTENT_TYPE)
                .header(header::CONTENT_LENGTH, body.len())
                .body(Body::from(body))
                .expect("a valid request");
            // As `axum::serve` (hyper-util's `TowerToHyperService`) does: a clone of the router,
            // made ready, then called.
            let mut service = app.clone();
            poll_fn(|cx| Service::<Request<Body>>::poll_ready(&mut service, cx))
                .await
                .expect("the router is always ready");
            let response = service.call(request).await.expect("infallible");
            assert_eq!(response.status(), 200);
            std::hint::black_box(axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("the body"));
        }
    });
}

fn actix(options: &Options, bodies: &[Bytes], n: usize, between: impl FnOnce()) {
    use actix_web::http::header;
    use actix_web::{App, test, web};

    let middleware = crate::server::actix_server::middleware(options);
    let probe = web::Data::new(Probe::new(None));
    let route = options.route;
    actix_web::rt::System::new().block_on(async move {
        let app =
            test::init_service(App::new().configure(crate::server::actix_server::configure(route, middleware, probe)))
                .await;
        let mut between = Some(between);
        for i in 0..n / 10 + n {
            if i == n / 10
                && let Some(between) = between.take()
            {
                between();
            }
            // `set_payload` sets `Content-Length`, as the gateway sends it.
            let request = test::TestRequest::post()
                .uri("/ipn")
                .insert_header((header::CONTENT_TYPE, FORM_CONTENT_TYPE))
                .set_payload(bodies[i % bodies.len()].clone())
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), 200);
            std::hint::black_box(test::read_body(response).await);
        }
    });
}
