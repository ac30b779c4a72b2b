//! Exactly-once processing: a [`NotificationStore`] claims a notification's
//! [`Fingerprint`](crate::Fingerprint) before the handler runs (one winner, across processes
//! sharing the back-end), records the reply after it succeeded, and releases the claim if it
//! failed, so that a gateway retry, a Back Office replay or two copies arriving at once on two
//! instances update the order once.
//!
//! Back-ends: [`MemoryStore`] (always available, one process), `SqliteStore` (feature `sqlite`,
//! one machine), `PostgresStore` (feature `postgres`) and `RedisStore` (feature `redis`) for
//! several instances. The back-ends behind features need a tokio runtime.
//!
//! Web adapters do not call the store themselves: [`Receiver::admit`](crate::Receiver::admit)
//! claims, [`Receiver::complete`](crate::Receiver::complete) completes or releases.
//!
//! ```
//! use std::time::Duration;
//! use ipn_core::store::{Claim, MemoryStore, NotificationStore};
//! use ipn_core::{Fingerprint, Reply};
//!
//! # pollster::block_on(async {
//! let store = MemoryStore::new();
//! let fingerprint = Fingerprint::from_bytes([7; 32]);
//! let lease = Duration::from_secs(60);
//!
//! // The first delivery wins the claim; a copy arriving meanwhile is told to retry later.
//! let Claim::Acquired(token) = store.claim(fingerprint, lease).await? else { unreachable!() };
//! assert_eq!(store.claim(fingerprint, lease).await?, Claim::InProgress);
//!
//! // The handler updated the order: record the reply; a replay gets it back.
//! store.complete(fingerprint, &token, &Reply::order_updated()).await?;
//! assert_eq!(store.claim(fingerprint, lease).await?, Claim::Done(Reply::order_updated()));
//! # Ok::<(), ipn_core::store::StoreError>(())
//! # }).unwrap();
//! ```

mod claim;
mod error;
mod memory;
mod notification_store;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
mod shared;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use claim::{Claim, ClaimToken};
pub use error::StoreError;
pub use memory::{DEFAULT_MEMORY_CAPACITY, MemoryStore};
pub use notification_store::{DEFAULT_RETENTION, LAZY_PURGE_INTERVAL, NotificationStore};
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Re-exported so a pool built by the application (`PostgresStore::new`, `SqliteStore::new`)
/// uses the same sqlx version.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sqlx;

/// Re-exported so a connection manager built by the application (`RedisStore::new`) uses the
/// same redis version.
#[cfg(feature = "redis")]
pub use ::redis as redis_client;
