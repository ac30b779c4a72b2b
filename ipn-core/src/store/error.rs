//! The notification store's error type.

use crate::fingerprint::Fingerprint;

/// A notification store operation failed.
///
/// Messages name the back-end and the operation, never a connection URL or a password; the
/// driver's error is kept as the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The back-end could not be reached or refused the operation (connection lost, timeout,
    /// SQL error). The delivery is answered 503 and the gateway retries.
    #[error("{backend} notification store: {operation} failed")]
    Backend {
        /// `sqlite`, `postgres`, `redis`.
        backend: &'static str,
        /// What was being done (`claim`, `complete`, `migrate`...).
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The token no longer holds the claim: its lease expired and another delivery took it
    /// over, or it was completed or released already. Nothing was changed.
    #[error("the claim on notification {fingerprint} is no longer held by this token")]
    ClaimLost {
        /// The notification.
        fingerprint: Fingerprint,
    },
    /// A record could not be read back (written by something else, or a newer version).
    #[error("unreadable record for notification {fingerprint}: {reason}")]
    Corrupt {
        /// The notification.
        fingerprint: Fingerprint,
        /// What is wrong.
        reason: String,
    },
    /// The in-memory store is full of claims in progress (completed records are evicted first).
    #[error("memory notification store full: {capacity} claims in progress")]
    Full {
        /// The configured capacity.
        capacity: usize,
    },
    /// A setting is invalid (for example a table name that is not a plain SQL identifier).
    #[error("invalid notification store configuration: {0}")]
    Config(String),
    /// The operating system could not provide randomness for a claim token.
    #[error("no randomness for a claim token")]
    Random(#[source] getrandom::Error),
}

impl StoreError {
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
    pub(crate) fn backend(
        backend: &'static str,
        operation: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend { backend, operation, source: Box::new(source) }
    }
}
