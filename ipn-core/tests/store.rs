#![allow(clippy::unwrap_used, missing_docs)]
//! One behaviour suite run against every notification store back-end: memory always; SQLite,
//! PostgreSQL and Redis with their features. The server-backed ones read `IPN_TEST_POSTGRES_URL`
//! and `IPN_TEST_REDIS_URL` (see `scripts/test-services.sh`); without them they are skipped,
//! except under CI (`CI` set), where they fail.

use std::sync::Arc;
use std::time::Duration;

use ipn_core::store::{Claim, ClaimToken, NotificationStore, StoreError};
use ipn_core::{Fingerprint, Reply};

/// Two handles on one back-end, as two application instances would have.
struct Pair {
    a: Arc<dyn NotificationStore>,
    b: Arc<dyn NotificationStore>,
    /// Redis lets abandoned claims expire by themselves: purge never sees them.
    claims_expire_by_themselves: bool,
}

fn random_fingerprint() -> Fingerprint {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    Fingerprint::from_bytes(bytes)
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
fn random_suffix() -> String {
    let mut bytes = [0_u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

fn acquired(claim: Claim) -> ClaimToken {
    match claim {
        Claim::Acquired(token) => token,
        other => panic!("expected Acquired, got {other:?}"),
    }
}

/// The server URL from the environment; `None` (skip) outside CI, a failure under CI.
#[cfg(any(feature = "postgres", feature = "redis"))]
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

const LONG_LEASE: Duration = Duration::from_secs(30);

mod cases {
    use super::*;

    pub(crate) async fn concurrent_claims_have_one_winner(pair: Pair) {
        let fingerprint = random_fingerprint();
        let reply = Reply::new(200, "OK-Accepted payment, order has been updated.");
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store = if i % 2 == 0 { pair.a.clone() } else { pair.b.clone() };
            let reply = reply.clone();
            tasks.push(tokio::spawn(async move {
                let claim = store.claim(fingerprint, LONG_LEASE).await.unwrap();
                if let Claim::Acquired(token) = &claim {
                    store.complete(fingerprint, token, &reply).await.unwrap();
                }
                claim
            }));
        }
        let mut winners = 0;
        for task in tasks {
            match task.await.unwrap() {
                Claim::Acquired(_) => winners += 1,
                Claim::InProgress => {}
                Claim::Done(recorded) => assert_eq!(recorded, reply),
            }
        }
        assert_eq!(winners, 1, "exactly one of 64 concurrent claims wins");
        assert_eq!(pair.a.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::Done(reply.clone()));
        assert_eq!(pair.b.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::Done(reply));
    }

    pub(crate) async fn completed_claim_returns_the_recorded_reply(pair: Pair) {
        let fingerprint = random_fingerprint();
        let token = acquired(pair.a.claim(fingerprint, LONG_LEASE).await.unwrap());
        assert_eq!(pair.b.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::InProgress);
        let reply = Reply::new(201, "OK: order 42 paid; état ✓");
        pair.a.complete(fingerprint, &token, &reply).await.unwrap();
        assert_eq!(pair.b.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::Done(reply.clone()));
        assert_eq!(pair.a.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::Done(reply));
        // Another notification is independent.
        acquired(pair.b.claim(random_fingerprint(), LONG_LEASE).await.unwrap());
    }

    pub(crate) async fn released_claim_is_processed_on_retry(pair: Pair) {
        let fingerprint = random_fingerprint();
        let first = acquired(pair.a.claim(fingerprint, LONG_LEASE).await.unwrap());
        pair.a.release(fingerprint, &first).await.unwrap();
        let retry = acquired(pair.b.claim(fingerprint, LONG_LEASE).await.unwrap());
        assert_ne!(first, retry);
        assert_eq!(pair.a.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::InProgress);
        pair.b.complete(fingerprint, &retry, &Reply::order_updated()).await.unwrap();
        assert_eq!(pair.a.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::Done(Reply::order_updated()));
    }

    pub(crate) async fn abandoned_claim_is_taken_over_after_the_lease(pair: Pair) {
        let fingerprint = random_fingerprint();
        let lease = Duration::from_millis(1000);
        let crashed = acquired(pair.a.claim(fingerprint, lease).await.unwrap());
        assert_eq!(pair.b.claim(fingerprint, lease).await.unwrap(), Claim::InProgress);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let taken_over = acquired(pair.b.claim(fingerprint, LONG_LEASE).await.unwrap());
        assert_ne!(crashed, taken_over);
        // The first holder comes back late: it can neither record nor release.
        let late = pair.a.complete(fingerprint, &crashed, &Reply::new(200, "late")).await;
        assert!(matches!(late, Err(StoreError::ClaimLost { fingerprint: f }) if f == fingerprint), "{late:?}");
        assert!(matches!(pair.a.release(fingerprint, &crashed).await, Err(StoreError::ClaimLost { .. })));
        pair.b.complete(fingerprint, &taken_over, &Reply::order_updated()).await.unwrap();
        assert_eq!(pair.a.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::Done(Reply::order_updated()));
    }

    pub(crate) async fn stale_token_cannot_complete_or_release(pair: Pair) {
        let fingerprint = random_fingerprint();
        let stranger = ClaimToken::generate().unwrap();
        assert!(matches!(
            pair.a.complete(fingerprint, &stranger, &Reply::order_updated()).await,
            Err(StoreError::ClaimLost { .. })
        ));
        let token = acquired(pair.a.claim(fingerprint, LONG_LEASE).await.unwrap());
        assert!(matches!(
            pair.b.complete(fingerprint, &stranger, &Reply::new(200, "forged")).await,
            Err(StoreError::ClaimLost { .. })
        ));
        assert!(matches!(pair.b.release(fingerprint, &stranger).await, Err(StoreError::ClaimLost { .. })));
        assert_eq!(pair.b.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::InProgress);
        pair.a.complete(fingerprint, &token, &Reply::order_updated()).await.unwrap();
        // Once done, the token is spent: no second completion, no release of a done record.
        assert!(matches!(
            pair.a.complete(fingerprint, &token, &Reply::new(200, "twice")).await,
            Err(StoreError::ClaimLost { .. })
        ));
        assert!(matches!(pair.b.release(fingerprint, &token).await, Err(StoreError::ClaimLost { .. })));
        assert_eq!(pair.b.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::Done(Reply::order_updated()));
    }

    pub(crate) async fn purge_removes_old_records(pair: Pair) {
        let old = random_fingerprint();
        let abandoned = random_fingerprint();
        let recent = random_fingerprint();
        let token = acquired(pair.a.claim(old, LONG_LEASE).await.unwrap());
        pair.a.complete(old, &token, &Reply::order_updated()).await.unwrap();
        acquired(pair.a.claim(abandoned, Duration::from_millis(50)).await.unwrap());
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let token = acquired(pair.b.claim(recent, LONG_LEASE).await.unwrap());
        pair.b.complete(recent, &token, &Reply::order_updated()).await.unwrap();

        let removed = pair.b.purge(Duration::from_millis(1000)).await.unwrap();
        assert_eq!(removed, if pair.claims_expire_by_themselves { 1 } else { 2 });
        assert_eq!(pair.a.purge(Duration::from_millis(1000)).await.unwrap(), 0, "nothing left to purge");
        acquired(pair.a.claim(old, LONG_LEASE).await.unwrap());
        acquired(pair.a.claim(abandoned, LONG_LEASE).await.unwrap());
        assert_eq!(pair.a.claim(recent, LONG_LEASE).await.unwrap(), Claim::Done(Reply::order_updated()));
    }

    /// `pair` built with a 1 s retention.
    pub(crate) async fn completed_record_is_forgotten_after_the_retention(pair: Pair) {
        let fingerprint = random_fingerprint();
        let token = acquired(pair.a.claim(fingerprint, LONG_LEASE).await.unwrap());
        pair.a.complete(fingerprint, &token, &Reply::order_updated()).await.unwrap();
        assert_eq!(pair.b.claim(fingerprint, LONG_LEASE).await.unwrap(), Claim::Done(Reply::order_updated()));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        acquired(pair.b.claim(fingerprint, LONG_LEASE).await.unwrap());
    }
}

const RETENTION_FOR_EXPIRY_TEST: Duration = Duration::from_millis(1000);

/// Generates one test per case for a back-end. `$setup` is an async fn taking the retention and
/// returning `Option<(Pair, cleanup future)>`.
macro_rules! store_suite {
    ($backend:ident, $setup:path) => {
        mod $backend {
            use super::*;

            async fn run<F: std::future::Future<Output = ()>>(
                retention: Option<Duration>,
                case: impl FnOnce(Pair) -> F,
            ) {
                let Some((pair, cleanup)) = $setup(retention).await else { return };
                case(pair).await;
                cleanup.await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_claims_through_two_instances_have_one_winner() {
                run(None, cases::concurrent_claims_have_one_winner).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn completed_claim_returns_the_recorded_reply() {
                run(None, cases::completed_claim_returns_the_recorded_reply).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn released_claim_is_processed_on_retry() {
                run(None, cases::released_claim_is_processed_on_retry).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn abandoned_claim_is_taken_over_after_the_lease() {
                run(None, cases::abandoned_claim_is_taken_over_after_the_lease).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn stale_token_cannot_complete_or_release() {
                run(None, cases::stale_token_cannot_complete_or_release).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn purge_removes_old_records() {
                run(None, cases::purge_removes_old_records).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn completed_record_is_forgotten_after_the_retention() {
                run(Some(RETENTION_FOR_EXPIRY_TEST), cases::completed_record_is_forgotten_after_the_retention).await;
            }
        }
    };
}

type Cleanup = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

mod setup {
    use super::*;

    /// Two "apps" sharing one in-process store.
    pub(crate) async fn memory(retention: Option<Duration>) -> Option<(Pair, Cleanup)> {
        let mut store = ipn_core::MemoryStore::new();
        if let Some(retention) = retention {
            store = store.retention(retention);
        }
        let store: Arc<dyn NotificationStore> = Arc::new(store);
        let pair = Pair { a: store.clone(), b: store, claims_expire_by_themselves: false };
        Some((pair, Box::pin(async {})))
    }

    /// Two pools on one database file.
    #[cfg(feature = "sqlite")]
    pub(crate) async fn sqlite(retention: Option<Duration>) -> Option<(Pair, Cleanup)> {
        use ipn_core::store::SqliteStore;
        let path = std::env::temp_dir().join(format!("ipn-store-test-{}.sqlite", random_suffix()));
        let open = || async {
            let store = SqliteStore::open(&path).await.unwrap();
            match retention {
                Some(retention) => store.retention(retention),
                None => store,
            }
        };
        let (a, b) = (open().await, open().await);
        let pair = Pair { a: Arc::new(a), b: Arc::new(b), claims_expire_by_themselves: false };
        let cleanup = async move {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
        };
        Some((pair, Box::pin(cleanup)))
    }

    /// Two pools on one database, a table of their own.
    #[cfg(feature = "postgres")]
    pub(crate) async fn postgres(retention: Option<Duration>) -> Option<(Pair, Cleanup)> {
        use ipn_core::store::PostgresStore;
        let url = service_url("IPN_TEST_POSTGRES_URL")?;
        let table = format!("ipn_test_{}", random_suffix());
        let open = || async {
            let store = PostgresStore::connect(&url).await.unwrap().table(&table).unwrap();
            store.migrate().await.unwrap();
            match retention {
                Some(retention) => store.retention(retention),
                None => store,
            }
        };
        let (a, b) = (open().await, open().await);
        let pool = a.pool().clone();
        let pair = Pair { a: Arc::new(a), b: Arc::new(b), claims_expire_by_themselves: false };
        let cleanup = async move {
            let drop_table = format!("DROP TABLE IF EXISTS {table}");
            ipn_core::store::sqlx::query(ipn_core::store::sqlx::AssertSqlSafe(drop_table))
                .execute(&pool)
                .await
                .unwrap();
        };
        Some((pair, Box::pin(cleanup)))
    }

    /// Two connection managers on one server, a key prefix of their own.
    #[cfg(feature = "redis")]
    pub(crate) async fn redis(retention: Option<Duration>) -> Option<(Pair, Cleanup)> {
        use ipn_core::store::RedisStore;
        let url = service_url("IPN_TEST_REDIS_URL")?;
        let prefix = format!("ipn-test:{}:", random_suffix());
        let open = || async {
            let store = RedisStore::connect(&url).await.unwrap().key_prefix(prefix.clone());
            match retention {
                Some(retention) => store.retention(retention),
                None => store,
            }
        };
        let (a, b) = (open().await, open().await);
        let pair = Pair { a: Arc::new(a.clone()), b: Arc::new(b), claims_expire_by_themselves: true };
        // Whatever the case left behind (claims, records) is removed by a purge with no retention
        // for records; claims expire with their lease.
        let cleanup = async move {
            a.purge(Duration::ZERO).await.unwrap();
        };
        Some((pair, Box::pin(cleanup)))
    }
}

store_suite!(memory, setup::memory);
#[cfg(feature = "sqlite")]
store_suite!(sqlite, setup::sqlite);
#[cfg(feature = "postgres")]
store_suite!(postgres, setup::postgres);
#[cfg(feature = "redis")]
store_suite!(redis, setup::redis);
