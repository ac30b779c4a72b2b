//! The time source for date checks, injectable so tests and the CLI can verify "as of" a date.

use std::fmt;

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock stopped at one instant.
///
/// ```
/// use ipn_core::{Clock, FixedClock};
/// let clock = FixedClock::from_http_date("Thu, 01 Dec 2022 19:08:22 GMT").unwrap();
/// assert_eq!(clock.now().unix_timestamp(), 1_669_921_702);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl FixedClock {
    /// A clock stopped at an HTTP date (`Thu, 01 Dec 2022 19:08:22 GMT` or `+0000`).
    pub fn from_http_date(date: &str) -> Option<Self> {
        crate::dates::parse_http_date(date).map(FixedClock)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}
