//! [`MemoryStore`]: claims and replies in a bounded map, for one process.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::fingerprint::Fingerprint;
use crate::reply::Reply;
use crate::store::{Claim, ClaimToken, DEFAULT_RETENTION, LAZY_PURGE_INTERVAL, NotificationStore, StoreError};

/// The default [`MemoryStore::capacity`].
pub const DEFAULT_MEMORY_CAPACITY: usize = 100_000;

/// An in-process notification store: a bounded map behind a mutex.
///
/// Exactly-once holds within one process only (share one store, e.g. in an `Arc`, between the
/// receivers of that process); records are lost on restart. For several instances behind a load
/// balancer use the PostgreSQL or Redis store; for one machine that restarts, SQLite.
///
/// When `capacity` records are held, a new claim evicts the oldest completed record first, then
/// abandoned claims (lease expired); when only claims in progress remain, it fails with
/// [`StoreError::Full`] (503: the gateway retries). Completed records older than the retention
/// are forgotten, and purged lazily at most once a minute.
///
/// ```
/// use std::time::Duration;
/// use ipn_core::store::MemoryStore;
/// let store = MemoryStore::new().capacity(10_000).retention(Duration::from_secs(24 * 3600));
/// assert!(store.is_empty());
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    capacity: usize,
    retention: Duration,
}

#[derive(Debug, Default)]
struct State {
    records: HashMap<Fingerprint, Record, BuildHasherDefault<FingerprintHasher>>,
    /// Completed records in completion order (a record is done once, and `Instant`s taken under
    /// the lock increase), so the oldest is at the front. Entries whose record was since
    /// forgotten or re-completed no longer match it and are skipped.
    completed: VecDeque<(Instant, Fingerprint)>,
    /// When the last lazy purge ran (`None`: never, so the first claim runs one).
    purged_at: Option<Instant>,
    /// Claims made so far: the next token. Tokens only need to be unique within this store, so a
    /// counter does, without asking the operating system for randomness on every claim.
    claims: u128,
}

#[derive(Debug)]
enum Record {
    Claimed { token: ClaimToken, lease_until: Instant },
    Done { reply: Reply, at: Instant },
}

/// Hashes a [`Fingerprint`] from its first 8 bytes, folded by a multiplication so that structured
/// fingerprints (tests, benchmarks) spread too: a real one is already a SHA-256 digest, and only
/// verified notifications reach the store, so there is nothing to gain from SipHash's resistance
/// to chosen keys, only its cost.
#[derive(Debug, Default)]
struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        let folded = u128::from(self.0) * 0x9e37_79b9_7f4a_7c15;
        (folded as u64) ^ ((folded >> 64) as u64)
    }

    fn write(&mut self, bytes: &[u8]) {
        // A fingerprint hashes as its 32 bytes, after a length prefix (`write_usize`).
        match bytes.first_chunk::<8>() {
            Some(head) => self.0 ^= u64::from_le_bytes(*head),
            None => bytes.iter().for_each(|&b| self.0 = self.0.rotate_left(8) ^ u64::from(b)),
        }
    }

    fn write_usize(&mut self, i: usize) {
        self.0 = self.0.rotate_left(5) ^ i as u64;
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store with [`DEFAULT_MEMORY_CAPACITY`] and [`DEFAULT_RETENTION`].
    pub fn new() -> Self {
        Self { state: Mutex::default(), capacity: DEFAULT_MEMORY_CAPACITY, retention: DEFAULT_RETENTION }
    }

    /// The most records held (at least 1).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How long completed records are kept.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How many records (claims and completed) are held.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements: a panic elsewhere cannot corrupt it.
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl State {
    fn purge(&mut self, now: Instant, retention: Duration) -> u64 {
        let Some(cutoff) = now.checked_sub(retention) else { return 0 };
        let mut removed = 0;
        while let Some(&(at, fingerprint)) = self.completed.front() {
            if at >= cutoff {
                break;
            }
            self.completed.pop_front();
            if self.remove_if_done_at(fingerprint, at) {
                removed += 1;
            }
        }
        let before = self.records.len();
        self.records.retain(|_, r| !matches!(r, Record::Claimed { lease_until, .. } if *lease_until < cutoff));
        removed + (before - self.records.len()) as u64
    }

    fn remove_if_done_at(&mut self, fingerprint: Fingerprint, at: Instant) -> bool {
        match self.records.entry(fingerprint) {
            Entry::Occupied(record) if matches!(record.get(), Record::Done { at: done_at, .. } if *done_at == at) => {
                record.remove();
                true
            }
            _ => false,
        }
    }

    /// Whether a lazy purge is due; if so, the next one is due an interval from now.
    fn purge_due(&mut self, now: Instant) -> bool {
        match self.purged_at {
            Some(at) if now.saturating_duration_since(at) < LAZY_PURGE_INTERVAL => false,
            _ => {
                self.purged_at = Some(now);
                true
            }
        }
    }

    fn next_token(&mut self) -> ClaimToken {
        self.claims = self.claims.wrapping_add(1);
        ClaimToken::from_bytes(self.claims.to_be_bytes())
    }

    /// Makes room for one record: the oldest completed record, else the abandoned claims.
    fn make_room(&mut self, now: Instant, capacity: usize) -> Result<(), StoreError> {
        while self.records.len() >= capacity {
            if let Some((at, fingerprint)) = self.completed.pop_front() {
                self.remove_if_done_at(fingerprint, at);
                continue;
            }
            let before = self.records.len();
            self.records.retain(|_, r| !matches!(r, Record::Claimed { lease_until, .. } if *lease_until <= now));
            if self.records.len() == before {
                return Err(StoreError::Full { capacity });
            }
        }
        Ok(())
    }
}

#[async_trait]
impl NotificationStore for MemoryStore {
    async fn claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Claim, StoreError> {
        let now = Instant::now();
        let mut state = self.lock();
        if state.purge_due(now) {
            state.purge(now, self.retention);
        }
        match state.records.get(&fingerprint) {
            Some(Record::Claimed { lease_until, .. }) if *lease_until > now => return Ok(Claim::InProgress),
            Some(Record::Done { reply, at }) if now.saturating_duration_since(*at) <= self.retention => {
                return Ok(Claim::Done(reply.clone()));
            }
            Some(_) => {}
            None => state.make_room(now, self.capacity)?,
        }
        let lease_until = now.checked_add(lease).ok_or_else(|| StoreError::Config("lease too long".into()))?;
        let token = state.next_token();
        state.records.insert(fingerprint, Record::Claimed { token, lease_until });
        Ok(Claim::Acquired(token))
    }

    async fn complete(&self, fingerprint: Fingerprint, token: &ClaimToken, reply: &Reply) -> Result<(), StoreError> {
        let mut state = self.lock();
        let State { records, completed, .. } = &mut *state;
        match records.get_mut(&fingerprint) {
            Some(record) if matches!(&*record, Record::Claimed { token: held, .. } if held == token) => {
                let at = Instant::now();
                *record = Record::Done { reply: reply.clone(), at };
                completed.push_back((at, fingerprint));
                Ok(())
            }
            _ => Err(StoreError::ClaimLost { fingerprint }),
        }
    }

    async fn release(&self, fingerprint: Fingerprint, token: &ClaimToken) -> Result<(), StoreError> {
        let mut state = self.lock();
        match state.records.entry(fingerprint) {
            Entry::Occupied(record) if matches!(record.get(), Record::Claimed { token: held, .. } if held == token) => {
                record.remove();
                Ok(())
            }
            _ => Err(StoreError::ClaimLost { fingerprint }),
        }
    }

    async fn purge(&self, retention: Duration) -> Result<u64, StoreError> {
        Ok(self.lock().purge(Instant::now(), retention))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(n: u8) -> Fingerprint {
        Fingerprint::from_bytes([n; 32])
    }

    fn acquired(claim: Claim) -> ClaimToken {
        match claim {
            Claim::Acquired(token) => token,
            other => panic!("expected Acquired, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn full_store_evicts_the_oldest_completed_record_first() {
        let store = MemoryStore::new().capacity(3);
        let lease = Duration::from_secs(60);
        for n in 1..=2 {
            let token = acquired(store.claim(fp(n), lease).await.unwrap());
            store.complete(fp(n), &token, &Reply::order_updated()).await.unwrap();
        }
        let _in_progress = acquired(store.claim(fp(3), lease).await.unwrap());
        acquired(store.claim(fp(4), lease).await.unwrap());
        assert_eq!(store.len(), 3);
        // 1 was the oldest completed record: forgotten. 2 is still known.
        assert_eq!(store.claim(fp(2), lease).await.unwrap(), Claim::Done(Reply::order_updated()));
        assert_eq!(store.claim(fp(3), lease).await.unwrap(), Claim::InProgress);
        // 1 is new again; making room for it evicts 2, the last completed record.
        acquired(store.claim(fp(1), lease).await.unwrap());
        assert_eq!(store.len(), 3);
        // Only claims in progress remain: a new notification waits (503) rather than evict them.
        assert!(matches!(store.claim(fp(2), lease).await, Err(StoreError::Full { capacity: 3 })));
        assert_eq!(store.claim(fp(3), lease).await.unwrap(), Claim::InProgress);
    }

    #[tokio::test]
    async fn full_of_claims_in_progress_fails_then_takes_abandoned_claims() {
        let store = MemoryStore::new().capacity(2);
        acquired(store.claim(fp(1), Duration::from_secs(60)).await.unwrap());
        acquired(store.claim(fp(2), Duration::from_millis(500)).await.unwrap());
        assert!(matches!(store.claim(fp(3), Duration::from_secs(60)).await, Err(StoreError::Full { capacity: 2 })));
        tokio::time::sleep(Duration::from_millis(700)).await;
        acquired(store.claim(fp(3), Duration::from_secs(60)).await.unwrap());
        assert_eq!(store.len(), 2);
        assert_eq!(store.claim(fp(1), Duration::from_secs(60)).await.unwrap(), Claim::InProgress);
    }

    #[tokio::test]
    async fn lazy_purge_on_claim_removes_expired_records() {
        let store = MemoryStore::new().retention(Duration::from_millis(20));
        let token = acquired(store.claim(fp(1), Duration::from_secs(60)).await.unwrap());
        store.complete(fp(1), &token, &Reply::order_updated()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        // The first claim already used the lazy purge of this minute: the record is forgotten by
        // age but still held until a purge.
        acquired(store.claim(fp(2), Duration::from_secs(60)).await.unwrap());
        assert_eq!(store.len(), 2);
        let fresh = MemoryStore::new().retention(Duration::from_millis(20));
        let token = acquired(fresh.claim(fp(1), Duration::from_secs(60)).await.unwrap());
        fresh.complete(fp(1), &token, &Reply::order_updated()).await.unwrap();
        fresh.lock().purged_at = None;
        tokio::time::sleep(Duration::from_millis(40)).await;
        acquired(fresh.claim(fp(2), Duration::from_secs(60)).await.unwrap());
        assert_eq!(fresh.len(), 1, "the lazy purge removed the completed record");
    }
}
