//! The [`NotificationStore`] trait: claim a fingerprint before the handler runs, record the reply
//! after it succeeded, release the claim if it failed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::fingerprint::Fingerprint;
use crate::reply::Reply;
use crate::store::{Claim, ClaimToken, StoreError};

/// How long records are kept by default: 7 days, longer than any gateway retry or Back Office
/// replay window that matters.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Back-ends purge lazily at most this often (during claims), so nothing grows without bound
/// even when [`NotificationStore::purge`] is never called.
pub const LAZY_PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// Exactly-once processing of notifications, keyed by [`Fingerprint`].
///
/// The protocol, which [`Receiver::admit`](crate::Receiver::admit) and
/// [`Receiver::complete`](crate::Receiver::complete) follow around the handler:
///
/// 1. [`claim`](Self::claim) the fingerprint with a lease. Exactly one caller, across processes
///    sharing the back-end, gets [`Claim::Acquired`]; the others get [`Claim::InProgress`] while
///    the lease runs, or [`Claim::Done`] with the recorded reply once it completed. A claim whose
///    lease expired (its process crashed) is taken over.
/// 2. The winner runs the handler, then [`complete`](Self::complete)s with the reply sent (the
///    handler succeeded) or [`release`](Self::release)s (it failed: the gateway's retry is
///    processed).
///
/// A completed record older than the store's retention is forgotten (as if never seen) and
/// deleted by [`purge`](Self::purge), which back-ends also run lazily.
///
/// See the [module documentation](crate::store) for an example.
#[async_trait]
pub trait NotificationStore: Send + Sync + std::fmt::Debug {
    /// Claims a notification for `lease`, atomically.
    ///
    /// # Errors
    ///
    /// When the back-end cannot be reached; the delivery is then answered 503, the handler is not
    /// called, and the gateway retries.
    async fn claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Claim, StoreError>;

    /// Records the reply of a successful delivery; later claims get [`Claim::Done`] with it.
    ///
    /// # Errors
    ///
    /// [`StoreError::ClaimLost`] when `token` no longer holds the claim (nothing is written);
    /// a back-end error otherwise.
    async fn complete(&self, fingerprint: Fingerprint, token: &ClaimToken, reply: &Reply) -> Result<(), StoreError>;

    /// Forgets a claim whose handler failed, so the next delivery processes the notification.
    ///
    /// # Errors
    ///
    /// [`StoreError::ClaimLost`] when `token` no longer holds the claim (nothing is changed);
    /// a back-end error otherwise.
    async fn release(&self, fingerprint: Fingerprint, token: &ClaimToken) -> Result<(), StoreError>;

    /// Deletes completed records older than `retention`, and claims whose lease ended more than
    /// `retention` ago. Returns how many records were deleted.
    ///
    /// # Errors
    ///
    /// When the back-end cannot be reached.
    async fn purge(&self, retention: Duration) -> Result<u64, StoreError>;
}

#[async_trait]
impl<S: NotificationStore + ?Sized> NotificationStore for Arc<S> {
    async fn claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Claim, StoreError> {
        (**self).claim(fingerprint, lease).await
    }

    async fn complete(&self, fingerprint: Fingerprint, token: &ClaimToken, reply: &Reply) -> Result<(), StoreError> {
        (**self).complete(fingerprint, token, reply).await
    }

    async fn release(&self, fingerprint: Fingerprint, token: &ClaimToken) -> Result<(), StoreError> {
        (**self).release(fingerprint, token).await
    }

    async fn purge(&self, retention: Duration) -> Result<u64, StoreError> {
        (**self).purge(retention).await
    }
}
