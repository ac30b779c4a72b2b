//! The same server as `ipn-load-server`, with a counting global allocator (`stats_alloc` over the
//! system allocator): `GET /__stats` reports allocations, bytes allocated and live bytes, and the
//! live bytes while N requests were held in flight (`POST /__hold/N`). For the memory
//! measurement only: the counters cost a few atomic operations per allocation.

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() -> std::io::Result<()> {
    ipn_load::server::main(Some(|| GLOBAL.stats()))
}
