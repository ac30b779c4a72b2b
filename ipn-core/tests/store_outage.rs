#![allow(clippy::unwrap_used, missing_docs)]
//! A notification store that cannot be reached answers 503 through `Receiver::admit` (the
//! handler is not called, the gateway retries), and processing resumes when it is back.
//!
//! The closed-port tests always run with their feature. The restart tests stop and restart the
//! local servers started by `scripts/test-services.sh` (root needed), so they are ignored by
//! default: `cargo test -p ipn-core --all-features --test store_outage -- --ignored`.

#[cfg(any(feature = "postgres", feature = "redis"))]
mod outage {
    use std::process::Command;
    use std::time::Duration;

    use ipn_core::store::{Claim, NotificationStore, StoreError};
    use ipn_core::{Endpoint, Error, Fingerprint, Keys, Mode, Receiver, RequestView, ShopKeys, Verifier};

    const BODY: &str = "vads_amount=4525&vads_ctx_mode=TEST&vads_currency=978&\
                        vads_hash=0d8b1a8f4ba7b1e6f1e7a4b6c1d9e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7&\
                        vads_order_id=ORDER-1042&\
                        vads_site_id=12345678&vads_trans_date=20261120101500&vads_trans_status=AUTHORISED&\
                        vads_url_check_src=PAY&vads_version=V2&signature=dNXpd7XTJvun3rkCjydZ6FfX%2B%2FWwnJzRUy3Ra5QfLGk%3D";

    pub(crate) fn receiver() -> Receiver {
        let keys =
            Keys::builder().shop(ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788")).build().unwrap();
        Receiver::new(Verifier::new(keys).endpoint(Endpoint::Ipn).accept_test_mode(true))
    }

    const HEADERS: [(&str, &str); 1] = [("content-type", "application/x-www-form-urlencoded")];

    pub(crate) fn request() -> RequestView<'static> {
        RequestView::new("POST", "/ipn", &HEADERS, BODY.as_bytes())
    }

    pub(crate) async fn assert_503(receiver: &Receiver) {
        let refused = receiver.admit(request()).await.unwrap_err();
        assert!(matches!(&refused.error, Error::Store(StoreError::Backend { .. })), "{:?}", refused.error);
        assert_eq!(refused.reply.status(), 503);
    }

    pub(crate) fn random_fingerprint() -> Fingerprint {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes).unwrap();
        Fingerprint::from_bytes(bytes)
    }

    pub(crate) fn random_suffix() -> String {
        let mut bytes = [0_u8; 6];
        getrandom::fill(&mut bytes).unwrap();
        hex::encode(bytes)
    }

    pub(crate) fn run(program: &str, args: &[&str]) {
        let status = Command::new(program).args(args).status().unwrap();
        assert!(status.success(), "{program} {args:?}: {status}");
    }

    /// Claims until the store answers (it reconnects by itself), within 20 s.
    pub(crate) async fn wait_until_back(store: &dyn NotificationStore) {
        for _ in 0..80 {
            if store.claim(random_fingerprint(), Duration::from_secs(1)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("the store did not come back");
    }

    pub(crate) fn service_url(variable: &str) -> Option<String> {
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

    #[cfg(feature = "postgres")]
    mod postgres {
        use super::*;
        use ipn_core::store::PostgresStore;
        use ipn_core::store::sqlx::postgres::PgPoolOptions;

        #[tokio::test]
        async fn closed_port_gives_503() {
            let pool = PgPoolOptions::new()
                .acquire_timeout(Duration::from_secs(1))
                .connect_lazy("postgres://ipn:not-a-real-password@127.0.0.1:1/ipn_test")
                .unwrap();
            let store = PostgresStore::new(pool);
            let debug = format!("{store:?}");
            assert!(!debug.contains("not-a-real-password"), "{debug}");
            let error = store.claim(random_fingerprint(), Duration::from_secs(1)).await.unwrap_err();
            assert!(!error.to_string().contains("not-a-real-password"));
            assert_503(&receiver().store(store)).await;
        }

        #[tokio::test]
        #[ignore = "stops and restarts the local PostgreSQL cluster (root): run with --ignored"]
        async fn server_stopped_gives_503_then_processing_resumes() {
            let Some(url) = service_url("IPN_TEST_POSTGRES_URL") else { return };
            let table = format!("ipn_test_{}", random_suffix());
            let store = PostgresStore::connect(&url).await.unwrap().table(&table).unwrap();
            store.migrate().await.unwrap();
            let receiver = receiver().store(PostgresStore::new(store.pool().clone()).table(&table).unwrap());
            let version = std::fs::read_dir("/usr/lib/postgresql")
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
                .unwrap();

            run("pg_ctlcluster", &[&version, "main", "stop"]);
            assert_503(&receiver).await;
            run("pg_ctlcluster", &[&version, "main", "start"]);
            wait_until_back(&store).await;

            let (n, delivery) = receiver.admit(request()).await.unwrap();
            receiver.complete(delivery, 200, None).await;
            assert!(matches!(store.claim(n.fingerprint(), Duration::from_secs(1)).await.unwrap(), Claim::Done(_)));
            let drop_table = format!("DROP TABLE {table}");
            ipn_core::store::sqlx::query(ipn_core::store::sqlx::AssertSqlSafe(drop_table))
                .execute(store.pool())
                .await
                .unwrap();
        }
    }

    #[cfg(feature = "redis")]
    mod redis {
        use super::*;
        use ipn_core::store::RedisStore;
        use ipn_core::store::redis_client::Client;
        use ipn_core::store::redis_client::aio::{ConnectionManager, ConnectionManagerConfig};

        #[tokio::test]
        async fn closed_port_gives_503() {
            let client = Client::open("redis://:not-a-real-password@127.0.0.1:1/").unwrap();
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_millis(500)))
                .set_number_of_retries(0);
            let manager = ConnectionManager::new_lazy_with_config(client, config).unwrap();
            let store = RedisStore::new(manager);
            assert!(!format!("{store:?}").contains("not-a-real-password"));
            assert!(RedisStore::connect("redis://:not-a-real-password@127.0.0.1:1/").await.is_err());
            assert_503(&receiver().store(store)).await;
        }

        #[tokio::test]
        #[ignore = "shuts down and restarts the local Redis server (root): run with --ignored"]
        async fn server_stopped_gives_503_then_processing_resumes() {
            let Some(url) = service_url("IPN_TEST_REDIS_URL") else { return };
            let store = RedisStore::connect(&url).await.unwrap().key_prefix(format!("ipn-test:{}:", random_suffix()));
            let receiver = receiver().store(store.clone());

            run("redis-cli", &["-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"]);
            assert_503(&receiver).await;
            run(
                "redis-server",
                &[
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    "6379",
                    "--daemonize",
                    "yes",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--logfile",
                    "/tmp/ipn-test-redis.log",
                ],
            );
            wait_until_back(&store).await;

            let (n, delivery) = receiver.admit(request()).await.unwrap();
            receiver.complete(delivery, 200, None).await;
            assert!(matches!(store.claim(n.fingerprint(), Duration::from_secs(1)).await.unwrap(), Claim::Done(_)));
            store.purge(Duration::ZERO).await.unwrap();
        }
    }
}
