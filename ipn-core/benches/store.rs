//! Claim + complete throughput of each notification store back-end, in one run so the ratios
//! against the in-memory store come from the same conditions. PostgreSQL and Redis are measured
//! when `IPN_TEST_POSTGRES_URL` / `IPN_TEST_REDIS_URL` are set (`scripts/test-services.sh`).
//!
//! `cargo bench -p ipn-core --all-features --bench store`

#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ipn_core::store::{Claim, MemoryStore, NotificationStore, PostgresStore, RedisStore, SqliteStore};
use ipn_core::{Fingerprint, Reply};

fn fingerprint(i: u64, salt: u64) -> Fingerprint {
    let mut bytes = [0_u8; 32];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    bytes[8..16].copy_from_slice(&salt.to_le_bytes());
    Fingerprint::from_bytes(bytes)
}

fn stores(rt: &tokio::runtime::Runtime) -> Vec<(&'static str, Arc<dyn NotificationStore>)> {
    let salt = std::process::id();
    let mut out: Vec<(&'static str, Arc<dyn NotificationStore>)> = vec![("memory", Arc::new(MemoryStore::new()))];
    let path = std::env::temp_dir().join(format!("ipn-bench-store-{salt}.sqlite"));
    out.push(("sqlite", Arc::new(rt.block_on(SqliteStore::open(&path)).unwrap())));
    if let Ok(url) = std::env::var("IPN_TEST_POSTGRES_URL") {
        let store = rt.block_on(PostgresStore::connect(&url)).unwrap().table(&format!("ipn_bench_{salt}")).unwrap();
        rt.block_on(store.migrate()).unwrap();
        out.push(("postgres", Arc::new(store)));
    }
    if let Ok(url) = std::env::var("IPN_TEST_REDIS_URL") {
        let store = rt.block_on(RedisStore::connect(&url)).unwrap().key_prefix(format!("ipn-bench-{salt}:"));
        out.push(("redis", Arc::new(store)));
    }
    out
}

fn claim_and_complete(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("store");
    let reply = Reply::order_updated();
    for (name, store) in stores(&rt) {
        let mut i = 0_u64;
        group.bench_function(format!("{name}_claim_complete"), |b| {
            b.iter(|| {
                i += 1;
                let fingerprint = fingerprint(i, u64::from(std::process::id()));
                rt.block_on(async {
                    let Claim::Acquired(token) = store.claim(fingerprint, Duration::from_secs(60)).await.unwrap()
                    else {
                        panic!("a fresh fingerprint is acquired")
                    };
                    store.complete(fingerprint, &token, &reply).await.unwrap();
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, claim_and_complete);
criterion_main!(benches);
