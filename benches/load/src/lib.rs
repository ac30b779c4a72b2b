//! Load benchmark of the IPN adapters over loopback.
//!
//! - [`server`]: one route of axum or actix-web on one worker thread: `bare` (reads the body,
//!   answers 200), `floor` (the same plus one HMAC-SHA-256 over the body), `direct` (a plain
//!   handler calling the core's verification itself), `ipn` (behind the IPN middleware),
//!   `ipn-store` (behind the middleware with the in-memory notification store), `naive` (a plain
//!   handler running the naive form check, the third reference figure).
//! - [`client`]: a minimal HTTP/1.1 keep-alive client (pre-serialized requests, one write and
//!   usually one read per request), used by the load generator and the smoke test.
//! - [`notifications`]: distinct signed form notifications (the realistic ~55-field template).
//! - [`inprocess`]: the server's apps called in process, for instruction and allocation counts.
//! - [`probe`]: the allocation counters and the in-flight barrier of the memory measurement.
//!
//! `scripts/bench-load.sh` runs every combination and writes the tables of `BENCHMARKS.md`.

pub mod client;
pub mod inprocess;
pub mod notifications;
pub mod probe;
pub mod server;
