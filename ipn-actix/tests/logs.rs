//! What the middleware logs: the scheme, merchant, order, transaction, outcome and duration of
//! each delivery, and never a key nor the received signature.

mod common;

use std::io;
use std::sync::{Arc, Mutex};

use actix_web::{App, web};
use common::{Seen, fail, form_vector, record, send};
use ipn_actix::IpnMiddleware;
use ipn_actix::ipn_core::Verifier;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().map_err(|_| io::Error::other("capture poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn logs_the_delivery_fields_but_never_a_key_nor_the_signature() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let valid = form_vector("form-ipn-pay-accepted");
    let tampered = form_vector("form-ipn-tampered-amount");
    let seen = Seen::data();
    let app = actix_web::test::init_service(
        App::new().app_data(seen.clone()).service(
            web::scope("")
                .wrap(IpnMiddleware::new(Verifier::new(valid.keys.clone())))
                .route("/ipn", web::post().to(record))
                .route("/ipn/fail", web::post().to(fail)),
        ),
    )
    .await;
    assert_eq!(send(&app, valid.request().to_request()).await.status, 200);
    assert_eq!(send(&app, valid.request().uri("/ipn/fail").to_request()).await.status, 500);
    assert_eq!(send(&app, tampered.request().to_request()).await.status, 401);

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "scheme=\"form\"",
        "merchant_id=\"12345678\"",
        "order_id=\"ORDER-1042\"",
        "transaction_id=\"4b5053b3b1fe4b02a07753e7a3f2c1d0\"",
        "outcome=Processed",
        "outcome=ProcessingFailed",
        "outcome=BadSignature",
        "status=200",
        "status=500",
        "status=401",
        "duration_ms=",
        "WARN",
        "database unavailable",
    ] {
        assert!(logs.contains(expected), "{expected} missing from:\n{logs}");
    }
    for vector in [&valid, &tampered] {
        let signature = vector.body.rsplit_once("signature=").unwrap().1;
        let decoded: String = signature.replace("%2F", "/").replace("%3D", "=").replace("%2B", "+");
        assert!(!logs.contains(signature) && !logs.contains(&decoded), "signature logged:\n{logs}");
    }
    for key in ["1122334455667788", "8877665544332211"] {
        assert!(!logs.contains(key), "key logged:\n{logs}");
    }
}
