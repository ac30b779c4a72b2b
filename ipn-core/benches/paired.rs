//! Each scheme's verify-and-parse against its floors, measured in alternation: the ratios of
//! `verify.rs` come from medians taken one after the other (a few seconds apart), so a shared
//! host that slows down between the floor and the verification moves them by several percent.
//! Here each round times a batch of each (about 10 ms), in an order that rotates from round to
//! round, and takes the ratio within the round; the median of the rounds and its quartiles are
//! printed. Drifts slower than a round cancel out. The rounds of a scheme span about 18 s: a
//! shared host's balance of scalar code and SHA-NI changes from one quarter-minute to the next
//! (one build read form at 3.2x, then 5.4x, minutes apart), and rounds spanning two seconds read
//! whichever state the host was in.
//!
//! `cargo bench -p ipn-core --bench paired [-- SCHEME...]` (`IPN_PAIRED_ROUNDS`, default 601). One
//! line per scheme:
//! `paired SCHEME FLOOR_NS KEYED_NS VERIFY_NS Q1 MEDIAN Q3 KEYED_MEDIAN ROUNDS`, the times being
//! medians per call and the ratios verify / floor (quartiles) and verify / keyed floor.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

mod fixtures;
use fixtures::Fixture;

/// How long a batch runs.
const BATCH: Duration = Duration::from_millis(10);

/// Nanoseconds per call of `f` over `n` calls.
fn time(n: u32, f: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// The number of calls of `f` that take about [`BATCH`].
fn calibrate(f: &mut dyn FnMut()) -> u32 {
    // Warm up, then scale a first estimate.
    let once = time(1000, f).max(1.0);
    (BATCH.as_nanos() as f64 / once).clamp(100.0, 10_000_000.0) as u32
}

fn median(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 2]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

fn paired(scheme: &str, fixture: &Fixture, rounds: usize) {
    let mut floor = || {
        black_box(fixture.floor());
    };
    let mut keyed = || {
        black_box(fixture.floor_keyed());
    };
    let mut verify = || {
        black_box(fixture.verify());
    };
    let mut runs: [(&mut dyn FnMut(), u32); 3] = [(&mut floor, 0), (&mut keyed, 0), (&mut verify, 0)];
    for (f, n) in &mut runs {
        *n = calibrate(*f);
    }
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..rounds {
        let mut this = [0.0; 3];
        // Each of the three goes first, second and third in turn.
        for k in 0..3 {
            let i = (round + k) % 3;
            let (f, n) = &mut runs[i];
            this[i] = time(*n, *f);
        }
        for (all, t) in times.iter_mut().zip(this) {
            all.push(t);
        }
    }
    let [floor, keyed, verify] = times;
    let ratios = sorted(verify.iter().zip(&floor).map(|(v, f)| v / f).collect());
    let keyed_ratios = sorted(verify.iter().zip(&keyed).map(|(v, k)| v / k).collect());
    let quartile = |q: usize| ratios[(ratios.len() - 1) * q / 4];
    println!(
        "paired {scheme} {:.0} {:.0} {:.0} {:.3} {:.3} {:.3} {:.3} {rounds}",
        median(&sorted(floor)),
        median(&sorted(keyed)),
        median(&sorted(verify)),
        quartile(1),
        median(&ratios),
        quartile(3),
        median(&keyed_ratios),
    );
}

/// A scheme's name and its fixture.
type Scheme = (&'static str, fn() -> Fixture);

fn main() {
    let rounds = std::env::var("IPN_PAIRED_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(601).max(1);
    // The schemes named (all when none is); `cargo bench` also passes `--bench`.
    let named: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let fixtures: [Scheme; 4] = [
        ("form", Fixture::form),
        ("form_2k", Fixture::form_issue_sized),
        ("rest", Fixture::rest),
        ("link", Fixture::link),
    ];
    for (scheme, fixture) in fixtures {
        if named.is_empty() || named.iter().any(|n| n == scheme) {
            paired(scheme, &fixture(), rounds);
        }
    }
}
