//! What the layer tells `tracing`: the `ipn` span's fields, rejections and handler failures, and
//! never a key nor the received signature.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use common::Vector;
use http::Request;
use ipn_core::Notification;
use ipn_tower::{Ipn, IpnError, IpnLayer, IpnReply};
use tower::ServiceExt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Writes every span, field record and event as one line.
#[derive(Debug, Clone, Default)]
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next_id: Arc<AtomicU64>,
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        write!(self.0, " {}={:?}", field.name(), value).unwrap();
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let mut line = Line(format!("span {}", attributes.metadata().name()));
        attributes.record(&mut line);
        self.lines.lock().unwrap().push(line.0);
        Id::from_u64(self.next_id.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = Line("record".to_owned());
        values.record(&mut line);
        self.lines.lock().unwrap().push(line.0);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!("event {}", event.metadata().level()));
        event.record(&mut line);
        self.lines.lock().unwrap().push(line.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Sends one request through `router` with `Capture` installed; returns the status and the log.
fn traced(router: Router, request: Request<Body>) -> (u16, String) {
    let capture = Capture::default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let status = tracing::subscriber::with_default(capture.clone(), || {
        runtime.block_on(async { router.oneshot(request).await.unwrap().status().as_u16() })
    });
    let log = capture.lines.lock().unwrap().join("\n");
    (status, log)
}

fn ipn_router(vector: &Vector) -> Router {
    Router::new()
        .route("/ipn", post(|Ipn(_n): Ipn<Notification>| async { IpnReply::order_updated() }))
        .route(
            "/failing",
            post(|| async { Err::<IpnReply, _>(IpnError::from("orders table locked (order ORDER-1042)")) }),
        )
        .route_layer(IpnLayer::new(vector.verifier()))
}

fn assert_no_secret(vector: &Vector, log: &str) {
    for key in ["1122334455667788", "8877665544332211"] {
        assert!(!log.contains(key), "a key was logged:\n{log}");
    }
    let signature = vector.body().rsplit_once("signature=").unwrap().1;
    let decoded = signature.replace("%2F", "/").replace("%3D", "=").replace("%2B", "+");
    assert!(!log.contains(signature) && !log.contains(&decoded), "the signature was logged:\n{log}");
}

#[test]
fn span_records_scheme_merchant_order_transaction_outcome_and_duration() {
    let vector = Vector::load("form-ipn-pay-accepted");
    let (status, log) = traced(ipn_router(&vector), vector.request());
    assert_eq!(status, 200);
    assert!(log.contains("span ipn"), "{log}");
    for expected in [
        "scheme=\"form\"",
        "merchant_id=\"12345678\"",
        "order_id=\"ORDER-1042\"",
        "transaction_id=\"4b5053b3b1fe4b02a07753e7a3f2c1d0\"",
        "outcome=Processed",
        "status=200",
        "duration_ms=",
    ] {
        assert!(log.contains(expected), "{expected} missing from:\n{log}");
    }
    assert_no_secret(&vector, &log);
}

#[test]
fn rejection_is_a_warning_with_its_outcome_and_no_secret() {
    let vector = Vector::load("form-ipn-tampered-amount");
    let (status, log) = traced(ipn_router(&vector), vector.request());
    assert_eq!(status, 401);
    assert!(log.contains("event WARN") && log.contains("outcome=BadSignature"), "{log}");
    assert!(log.contains("status=401"), "{log}");
    assert_no_secret(&vector, &log);
}

#[test]
fn handler_failure_is_logged_at_error_level_with_its_message() {
    let vector = Vector::load("form-ipn-pay-accepted");
    let mut request = vector.request();
    *request.uri_mut() = "/failing".parse().unwrap();
    let (status, log) = traced(ipn_router(&vector), request);
    assert_eq!(status, 500);
    assert!(log.lines().any(|l| l.starts_with("event ERROR") && l.contains("orders table locked")), "{log}");
    assert!(log.contains("outcome=ProcessingFailed"), "{log}");
    assert_no_secret(&vector, &log);
}
