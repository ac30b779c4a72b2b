//! What the memory measurement reads from a server: its allocation counters (when the binary
//! counts allocations, `ipn-load-server-counting`) and the live bytes at the moment N requests are
//! in flight at once.
//!
//! Every route's handler ends with [`Probe::pass`]: it counts the handler's calls (`handled`, so
//! that a run can tell fresh notifications from duplicates answered by the store) and, normally,
//! does nothing else (one relaxed atomic add and load). When
//! armed with N (`POST /__hold/N`), the first N requests to reach a handler wait for each other: the
//! N-th reads the counters while all N are held (their bodies buffered, notifications decoded, the
//! middleware's futures alive), then all are released. `GET /__stats` answers the counters and that
//! snapshot.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use stats_alloc::Stats;
use tokio::sync::Barrier;

/// Reads the allocation counters of the process (`None`: the binary does not count).
pub type StatsFn = fn() -> Stats;

/// The allocation counters and the in-flight barrier of one server.
#[derive(Debug, Default)]
pub struct Probe {
    stats: Option<StatsFn>,
    handled: AtomicU64,
    armed: AtomicBool,
    barrier: Mutex<Option<Arc<Barrier>>>,
    held: Mutex<Option<Stats>>,
}

impl Probe {
    /// A probe reading `stats` (or nothing: every counter reads 0).
    pub fn new(stats: Option<StatsFn>) -> Self {
        Self { stats, ..Self::default() }
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.stats.map(|read| read()).unwrap_or_default()
    }

    /// Holds the next `n` requests until all `n` have reached their handler.
    pub fn arm(&self, n: usize) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *self.barrier.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(Barrier::new(n.max(1))));
        self.armed.store(true, Ordering::Release);
    }

    /// How many times a measured handler ran (a duplicate answered by the store does not reach it).
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// Called at the end of every measured handler: counts it, waits at the barrier when armed.
    pub async fn pass(&self) {
        self.handled.fetch_add(1, Ordering::Relaxed);
        if !self.armed.load(Ordering::Relaxed) {
            return;
        }
        let barrier = self.barrier.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(barrier) = barrier else { return };
        if barrier.wait().await.is_leader() {
            // The last to arrive: the others are parked at the barrier, not yet running again.
            let snapshot = self.stats();
            *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(snapshot);
            *self.barrier.lock().unwrap_or_else(PoisonError::into_inner) = None;
            self.armed.store(false, Ordering::Release);
        }
    }

    /// The `GET /__stats` body: `name value` lines.
    pub fn report(&self) -> String {
        let now = self.stats();
        let held = *self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = format!(
            "handled {}\ncounting {}\nallocations {}\ndeallocations {}\nreallocations {}\nbytes_allocated {}\nbytes_deallocated {}\nbytes_reallocated {}\nlive {}\n",
            self.handled(),
            u8::from(self.stats.is_some()),
            now.allocations,
            now.deallocations,
            now.reallocations,
            now.bytes_allocated,
            now.bytes_deallocated,
            now.bytes_reallocated,
            live(&now),
        );
        if let Some(held) = held {
            out.push_str(&format!("held_live {}\n", live(&held)));
        }
        out
    }
}

/// Bytes allocated and not yet freed. `stats_alloc` adds what a reallocation grows or shrinks
/// a block by to `bytes_allocated` or `bytes_deallocated` already (`bytes_reallocated` is the
/// same change, signed): adding it again would count every reallocation twice.
pub fn live(stats: &Stats) -> i128 {
    stats.bytes_allocated as i128 - stats.bytes_deallocated as i128
}

#[cfg(test)]
mod tests {
    use stats_alloc::Stats;

    use super::live;

    /// What `stats_alloc` records for a 16-byte block grown to 64 bytes by `realloc`, shrunk
    /// to 32, then freed (its `realloc` adds the growth to `bytes_allocated`, the shrinking to
    /// `bytes_deallocated`, and both, signed, to `bytes_reallocated`): nothing is live. Kept
    /// after the growth, 64 bytes are.
    #[test]
    fn live_bytes_count_each_reallocation_once() {
        let freed = Stats {
            allocations: 1,
            deallocations: 1,
            reallocations: 2,
            bytes_allocated: 16 + 48,
            bytes_deallocated: 32 + 32,
            bytes_reallocated: 48 - 32,
        };
        assert_eq!(live(&freed), 0);
        let kept = Stats {
            allocations: 1,
            reallocations: 1,
            bytes_allocated: 16 + 48,
            bytes_reallocated: 48,
            ..Stats::default()
        };
        assert_eq!(live(&kept), 64);
    }
}
