//! Helpers shared by the back-ends: the lazy purge schedule, milliseconds, table names.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::sync::Mutex;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::time::Instant;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::store::LAZY_PURGE_INTERVAL;

/// Says "purge now" at most once per [`LAZY_PURGE_INTERVAL`] (the first time on the first ask).
/// The memory store keeps its own schedule under its lock.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[derive(Debug, Default)]
pub(crate) struct PurgeSchedule {
    last: Mutex<Option<Instant>>,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
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
}

/// Milliseconds, saturating, for binding durations into SQL and Redis commands.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
pub(crate) fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Checks that a table name is a plain SQL identifier (it is spliced into statements).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn check_table_name(name: &str) -> Result<(), crate::store::StoreError> {
    let mut chars = name.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63;
    if plain {
        Ok(())
    } else {
        Err(crate::store::StoreError::Config(format!(
            "table name {name:?} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)"
        )))
    }
}

/// Reads a recorded reply back.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
pub(crate) fn recorded_reply(
    fingerprint: crate::Fingerprint,
    status: Option<i64>,
    body: Option<String>,
) -> Result<crate::Reply, crate::store::StoreError> {
    let corrupt = |reason: &str| crate::store::StoreError::Corrupt { fingerprint, reason: reason.to_owned() };
    let status = status.ok_or_else(|| corrupt("completed without a status"))?;
    let status = u16::try_from(status).map_err(|_| corrupt("status out of range"))?;
    Ok(crate::Reply::new(status, body.unwrap_or_default()))
}

#[cfg(all(test, any(feature = "sqlite", feature = "postgres")))]
mod tests {
    use super::*;

    #[test]
    fn first_ask_is_due_then_not_within_the_interval() {
        let schedule = PurgeSchedule::default();
        assert!(schedule.due());
        assert!(!schedule.due());
    }
}
