//! One route of the load benchmark's server called in process (`ipn_load::inprocess`), for
//! instruction counts:
//!
//! ```sh
//! cargo build --release -p ipn-load --example inprocess
//! for n in 1000 11000; do
//!   FRAMEWORK=axum ROUTE=ipn N=$n valgrind --tool=callgrind target/release/examples/inprocess
//! done   # instructions per request: (second total - first total) / 10000
//! ```
//!
//! `FRAMEWORK` is `axum` (default) or `actix`; `ROUTE` `bare`, `floor`, `direct`, `ipn` (default),
//! `ipn-store` or `naive`, or `core` / `core-store` for the core's share of `ipn` / `ipn-store` without a
//! framework (`ipn_load::inprocess::run_core`); `N` the number of requests (after N / 10 to warm up). `inprocess-counting` counts
//! allocations instead. It prints the wall-clock time per request (a rough figure: the machine is
//! shared).
#![allow(clippy::unwrap_used)]

fn main() {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let n = var("N", "10000").parse().unwrap();
    let started = std::cell::Cell::new(None);
    let between = || started.set(Some(std::time::Instant::now()));
    match var("ROUTE", "ipn").as_str() {
        // The core's share only, without a framework.
        "core" => ipn_load::inprocess::run_core(false, n, between),
        "core-store" => ipn_load::inprocess::run_core(true, n, between),
        route => {
            ipn_load::inprocess::run(var("FRAMEWORK", "axum").parse().unwrap(), route.parse().unwrap(), n, between)
        }
    }
    // Wall-clock, for a rough idea only: on a shared machine, compare instruction counts.
    #[allow(clippy::cast_precision_loss)]
    let per_request = started.get().unwrap().elapsed().as_nanos() as f64 / n as f64;
    println!("ns/request {per_request:.0}");
}
