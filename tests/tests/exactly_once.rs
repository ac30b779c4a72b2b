//! Exactly-once processing through both adapters, on every store back-end: concurrent duplicate
//! deliveries through two app instances sharing a store, a handler failure followed by the
//! gateway's retry, and a store that cannot be reached.
//!
//! PostgreSQL and Redis come from `IPN_TEST_POSTGRES_URL` / `IPN_TEST_REDIS_URL`
//! (`scripts/test-services.sh`); without them these back-ends are skipped, except under CI where
//! the test fails.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ipn_core::store::{
    Claim, ClaimToken, MemoryStore, NotificationStore, PostgresStore, RedisStore, SqliteStore, StoreError,
};
use ipn_core::{Fingerprint, Keys, Mode, Reply, ShopKeys, Verifier};

const DELIVERIES: usize = 64;

fn body() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ipn-core/tests/vectors/form-ipn-pay-accepted.json");
    let vector: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    vector["request"]["body"].as_str().unwrap().to_owned()
}

fn verifier() -> Verifier {
    let keys =
        Keys::builder().shop(ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788")).build().unwrap();
    Verifier::new(keys).accept_test_mode(true)
}

/// What the handler saw: calls, and whether it should fail the first one.
#[derive(Debug, Default)]
struct Handler {
    calls: AtomicUsize,
    fail_first: AtomicBool,
}

impl Handler {
    fn failing_first() -> Arc<Self> {
        Arc::new(Self { calls: AtomicUsize::new(0), fail_first: AtomicBool::new(true) })
    }

    /// Counts the call; slow enough for concurrent deliveries to overlap; fails once if asked.
    async fn handle(&self) -> Result<(), std::io::Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        if self.fail_first.swap(false, Ordering::SeqCst) {
            return Err(std::io::Error::other("database unavailable"));
        }
        Ok(())
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// A store that can be switched off, standing for a database that went away.
#[derive(Debug, Clone, Default)]
struct Switchable {
    inner: Arc<MemoryStore>,
    down: Arc<AtomicBool>,
}

impl Switchable {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Config("the test store is switched off".into()));
        }
        Ok(())
    }
}

#[ipn_core::async_trait]
impl NotificationStore for Switchable {
    async fn claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Claim, StoreError> {
        self.check()?;
        self.inner.claim(fingerprint, lease).await
    }
    async fn complete(&self, fingerprint: Fingerprint, token: &ClaimToken, reply: &Reply) -> Result<(), StoreError> {
        self.check()?;
        self.inner.complete(fingerprint, token, reply).await
    }
    async fn release(&self, fingerprint: Fingerprint, token: &ClaimToken) -> Result<(), StoreError> {
        self.check()?;
        self.inner.release(fingerprint, token).await
    }
    async fn purge(&self, retention: Duration) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.purge(retention).await
    }
}

mod tower_app {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use ipn_tower::{Ipn, IpnError, IpnLayer, IpnReply};
    use tower::ServiceExt;

    use super::*;

    pub(super) fn app(store: impl NotificationStore + 'static, handler: Arc<Handler>) -> Router {
        let route = post(move |Ipn(_): Ipn<ipn_core::Notification>| {
            let handler = Arc::clone(&handler);
            async move {
                handler.handle().await?;
                Ok::<_, IpnError>(IpnReply::order_updated())
            }
        });
        Router::new().route(
            "/ipn",
            route.layer(IpnLayer::new(ipn_core::Receiver::new(verifier()).store(store).lease(Duration::from_secs(30)))),
        )
    }

    pub(super) async fn deliver(app: &Router, body: &str) -> (u16, String) {
        let request = http::Request::post("/ipn")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }
}

mod actix_app {
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::{App, test, web};
    use ipn_actix::{Ipn, IpnError, IpnMiddleware, IpnReply};

    use super::*;

    pub(super) async fn app(
        store: impl NotificationStore + 'static,
        handler: Arc<Handler>,
    ) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
        let middleware =
            IpnMiddleware::new(ipn_core::Receiver::new(verifier()).store(store).lease(Duration::from_secs(30)));
        test::init_service(App::new().app_data(web::Data::from(handler)).service(
            web::resource("/ipn").wrap(middleware).route(web::post().to(
                |_: Ipn<ipn_core::Notification>, handler: web::Data<Handler>| async move {
                    handler.handle().await?;
                    Ok::<_, IpnError>(IpnReply::order_updated())
                },
            )),
        ))
        .await
    }

    pub(super) async fn deliver(
        app: &impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
        body: &str,
    ) -> (u16, String) {
        let request = test::TestRequest::post()
            .uri("/ipn")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(body.to_owned())
            .to_request();
        let response = test::call_service(app, request).await;
        let status = response.status().as_u16();
        (status, String::from_utf8(test::read_body(response).await.to_vec()).unwrap())
    }
}

/// The answers to concurrent duplicates: one processed, the others replayed or told to retry.
fn check_concurrent(answers: &[(u16, String)], handler: &Handler, backend: &str) {
    assert_eq!(handler.calls(), 1, "{backend}: the handler must run exactly once; answers {answers:?}");
    assert!(answers.iter().any(|(s, _)| *s == 200), "{backend}: one delivery is processed");
    for (status, body) in answers {
        match status {
            200 => assert_eq!(body, "Order successfully updated.", "{backend}"),
            409 => assert_eq!(body, "Notification being processed; retry later.", "{backend}"),
            other => panic!("{backend}: unexpected {other} {body}"),
        }
    }
}

/// Two store instances over the same back-end (two pools or connections), or one shared memory
/// store; `None` when the back-end's server is not configured (outside CI).
async fn store_pair(backend: &str) -> Option<(Arc<dyn NotificationStore>, Arc<dyn NotificationStore>)> {
    let unique = format!("{}_{}", std::process::id(), ClaimToken::generate().unwrap());
    match backend {
        "memory" => {
            let store: Arc<dyn NotificationStore> = Arc::new(MemoryStore::new());
            Some((Arc::clone(&store), store))
        }
        "sqlite" => {
            let path = std::env::temp_dir().join(format!("ipn-exactly-once-{unique}.sqlite"));
            let a = SqliteStore::open(&path).await.unwrap();
            let b = SqliteStore::open(&path).await.unwrap();
            Some((Arc::new(a), Arc::new(b)))
        }
        "postgres" => {
            let url = service_url("IPN_TEST_POSTGRES_URL")?;
            let table = format!("ipn_exactly_once_{}", &unique[unique.len() - 12..]);
            let a = PostgresStore::connect(&url).await.unwrap().table(&table).unwrap();
            a.migrate().await.unwrap();
            let b = PostgresStore::connect(&url).await.unwrap().table(&table).unwrap();
            Some((Arc::new(a), Arc::new(b)))
        }
        "redis" => {
            let url = service_url("IPN_TEST_REDIS_URL")?;
            let prefix = format!("ipn-test-{unique}:");
            let a = RedisStore::connect(&url).await.unwrap().key_prefix(&prefix);
            let b = RedisStore::connect(&url).await.unwrap().key_prefix(&prefix);
            Some((Arc::new(a), Arc::new(b)))
        }
        other => panic!("unknown back-end {other}"),
    }
}

fn service_url(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false") => {
            panic!("{variable} is not set under CI: run scripts/test-services.sh")
        }
        _ => {
            eprintln!("skipped: {variable} is not set (see scripts/test-services.sh)");
            None
        }
    }
}

const BACKENDS: [&str; 4] = ["memory", "sqlite", "postgres", "redis"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_runs_the_handler_once_for_64_concurrent_deliveries_through_two_instances() {
    let body = body();
    for backend in BACKENDS {
        let Some((a, b)) = store_pair(backend).await else { continue };
        let handler = Arc::new(Handler::default());
        let apps = [tower_app::app(a, Arc::clone(&handler)), tower_app::app(b, Arc::clone(&handler))];
        let tasks: Vec<_> = (0..DELIVERIES)
            .map(|i| {
                let (app, body) = (apps[i % 2].clone(), body.clone());
                tokio::spawn(async move { tower_app::deliver(&app, &body).await })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        check_concurrent(&answers, &handler, backend);
        // After the dust settles, a redelivery gets the recorded reply.
        assert_eq!(tower_app::deliver(&apps[1], &body).await, (200, "Order successfully updated.".into()));
        assert_eq!(handler.calls(), 1, "{backend}");
    }
}

#[actix_web::test]
async fn actix_runs_the_handler_once_for_64_concurrent_deliveries_through_two_instances() {
    let body = body();
    for backend in BACKENDS {
        let Some((a, b)) = store_pair(backend).await else { continue };
        let handler = Arc::new(Handler::default());
        let first = actix_app::app(a, Arc::clone(&handler)).await;
        let second = actix_app::app(b, Arc::clone(&handler)).await;
        let deliveries = (0..DELIVERIES).map(|i| {
            let body = body.as_str();
            let (first, second) = (&first, &second);
            async move {
                if i % 2 == 0 { actix_app::deliver(first, body).await } else { actix_app::deliver(second, body).await }
            }
        });
        let answers = futures_util::future::join_all(deliveries).await;
        check_concurrent(&answers, &handler, backend);
        assert_eq!(actix_app::deliver(&second, &body).await, (200, "Order successfully updated.".into()));
        assert_eq!(handler.calls(), 1, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_processes_the_retry_after_a_handler_failure_once() {
    let body = body();
    for backend in BACKENDS {
        let Some((store, _)) = store_pair(backend).await else { continue };
        let handler = Handler::failing_first();
        let app = tower_app::app(store, Arc::clone(&handler));
        assert_eq!(tower_app::deliver(&app, &body).await, (500, "An error occurred while updating the order.".into()));
        assert_eq!(tower_app::deliver(&app, &body).await, (200, "Order successfully updated.".into()));
        assert_eq!(tower_app::deliver(&app, &body).await, (200, "Order successfully updated.".into()));
        assert_eq!(handler.calls(), 2, "{backend}: the failure and the retry");
    }
}

#[actix_web::test]
async fn actix_processes_the_retry_after_a_handler_failure_once() {
    let body = body();
    for backend in BACKENDS {
        let Some((store, _)) = store_pair(backend).await else { continue };
        let handler = Handler::failing_first();
        let app = actix_app::app(store, Arc::clone(&handler)).await;
        assert_eq!(actix_app::deliver(&app, &body).await, (500, "An error occurred while updating the order.".into()));
        assert_eq!(actix_app::deliver(&app, &body).await, (200, "Order successfully updated.".into()));
        assert_eq!(actix_app::deliver(&app, &body).await, (200, "Order successfully updated.".into()));
        assert_eq!(handler.calls(), 2, "{backend}: the failure and the retry");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_store_is_503_without_calling_the_handler_in_both_adapters() {
    let body = body();
    let store = Switchable::default();
    let handler = Arc::new(Handler::default());
    let app = tower_app::app(store.clone(), Arc::clone(&handler));
    store.down.store(true, Ordering::SeqCst);
    assert_eq!(tower_app::deliver(&app, &body).await, (503, "Service unavailable; retry later.".into()));
    assert_eq!(handler.calls(), 0);
    store.down.store(false, Ordering::SeqCst);
    assert_eq!(tower_app::deliver(&app, &body).await, (200, "Order successfully updated.".into()));
    assert_eq!(handler.calls(), 1);

    // actix runs on its own single-threaded runtime.
    let body = self::body();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let store = Switchable::default();
            let handler = Arc::new(Handler::default());
            let app = actix_app::app(store.clone(), Arc::clone(&handler)).await;
            store.down.store(true, Ordering::SeqCst);
            assert_eq!(actix_app::deliver(&app, &body).await, (503, "Service unavailable; retry later.".into()));
            assert_eq!(handler.calls(), 0);
            store.down.store(false, Ordering::SeqCst);
            assert_eq!(actix_app::deliver(&app, &body).await, (200, "Order successfully updated.".into()));
            assert_eq!(handler.calls(), 1);
        });
    })
    .join()
    .unwrap();
}
