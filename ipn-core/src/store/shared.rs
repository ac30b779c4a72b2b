//! Helpers shared by the back-ends: the lazy purge schedule, milliseconds, table names.

use std::sync::Mutex;
use std::time::Instant;

use crate::store::LAZY_PURGE_INTERVAL;

/// Says "purge now" at most once per [`LAZY_PURGE_INTERVAL`] (the first time on the first ask).
#[derive(Debug, Default)]
pub(crate) struct PurgeSchedule {
    last: Mutex<Option<Instant>>,
}

impl PurgeSchedule {
    /// Whether a lazy purge is due; if so, the next one is due an interval from now.
    pub(crate) fn due(&self) -> bool {
        let now = Instant::now();
        let mut last = match self.last.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        match *last {
            Some(at) if now.duration_since(at) < LAZY_PURGE_INTERVAL => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }

    /// Makes the next ask due (tests).
    #[cfg(test)]
    pub(crate) fn reset(&self) {
        *self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_ask_is_due_then_not_within_the_interval() {
        let schedule = PurgeSchedule::default();
        assert!(schedule.due());
        assert!(!schedule.due());
    }
}
