#![doc = include_str!("../README.md")]

pub mod capture;
pub mod explain;
pub mod gateway;
pub mod report;
pub mod send;
pub mod settings;
pub mod sign;

use ipn_core::{Endpoint, FixedClock, Receiver, Verifier};

pub use capture::{CaptureError, parse_request};
pub use settings::Settings;

/// The receiver `verify` and `explain` use: the configuration's keys and limits, the endpoint,
/// and a clock stopped at `now` when given (to check a capture's signed `Date` as of its time).
pub fn receiver(settings: &Settings, endpoint: Endpoint, now: Option<FixedClock>) -> Receiver {
    let mut verifier = Verifier::from_config(settings.config().clone()).endpoint(endpoint);
    if let Some(clock) = now {
        verifier = verifier.clock(clock);
    }
    Receiver::new(verifier)
}
