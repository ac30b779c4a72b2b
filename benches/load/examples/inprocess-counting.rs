//! `inprocess` with a counting global allocator: prints the allocations and bytes allocated per
//! request of one route called in process (`FRAMEWORK`, `ROUTE`, `N` as for `inprocess`).
#![allow(clippy::unwrap_used)]

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let n: usize = var("N", "10000").parse().unwrap();
    let before = std::cell::Cell::new(None);
    let between = || before.set(Some(GLOBAL.stats()));
    match var("ROUTE", "ipn").as_str() {
        "core" => ipn_load::inprocess::run_core(false, n, between),
        "core-store" => ipn_load::inprocess::run_core(true, n, between),
        route => {
            ipn_load::inprocess::run(var("FRAMEWORK", "axum").parse().unwrap(), route.parse().unwrap(), n, between)
        }
    }
    let (before, after) = (before.get().unwrap(), GLOBAL.stats());
    #[allow(clippy::cast_precision_loss)]
    let per = |a: usize, b: usize| (a - b) as f64 / n as f64;
    println!("allocations/request {:.2}", per(after.allocations, before.allocations));
    println!("reallocations/request {:.2}", per(after.reallocations, before.reallocations));
    println!("bytes/request {:.0}", per(after.bytes_allocated, before.bytes_allocated));
}
