//! `ipn-load-gen`: drives an `ipn-load-server` over loopback on one thread.
//!
//! - `load`: C keep-alive connections, each sending its next request as soon as the previous
//!   response is in (closed loop), for a warm-up then a fixed duration; prints requests per
//!   second and the latency percentiles of the measured window, how many responses of each status
//!   and body were received, and how many requests reached the handler (so a "fresh
//!   notifications" run shows that none was answered by the store as a duplicate).
//! - `paired`: several servers (routes) driven in turn, in short slices whose order rotates from
//!   round to round, each round's throughput taken as a ratio to the first server's: on a shared
//!   machine, the ratios of two `load` runs made a minute apart move with the other work there;
//!   within a round, a drift slower than a few slices cancels out.
//! - `memory`: against `ipn-load-server-counting`, the bytes allocated per request, the bytes
//!   retained per request, and the live bytes per request while N requests are in flight at once.
//!
//! Output: `name value` lines.

use std::cell::Cell;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use hdrhistogram::Histogram;
use ipn_load::client::{self, Connection};
use ipn_load::notifications::{FORM_CONTENT_TYPE, form_bodies};

/// Load generator of the IPN load benchmark.
#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Throughput and latency: closed loop on keep-alive connections.
    Load(LoadArgs),
    /// Throughput ratios to a reference server, in alternating slices.
    Paired(PairedArgs),
    /// Allocation per request and live bytes per in-flight request (counting server).
    Memory(MemoryArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Bodies {
    /// Cycle through `--distinct` distinct notifications.
    Fresh,
    /// Send the same notification every time.
    Replay,
}

#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// The server.
    #[arg(long, default_value = "127.0.0.1:8480")]
    addr: SocketAddr,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of warm-up before the measured window.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Which notifications to send.
    #[arg(long, value_enum, default_value_t = Bodies::Fresh)]
    bodies: Bodies,
    /// How many distinct notifications `fresh` cycles through: more than the store's capacity
    /// (100 000 by default), so that each one has been evicted before it comes again.
    #[arg(long, default_value_t = 131_072)]
    distinct: usize,
}

#[derive(Debug, clap::Args)]
struct PairedArgs {
    /// A server, as `NAME=ADDR`; the first is the reference (the floor route). Repeat it.
    #[arg(long = "server", required = true, value_parser = named_addr)]
    servers: Vec<(String, SocketAddr)>,
    /// Rounds: each drives every server once, in an order that rotates from round to round.
    #[arg(long, default_value_t = 21)]
    rounds: usize,
    /// Measured seconds of each server in a round.
    #[arg(long, default_value_t = 0.5)]
    slice: f64,
    /// Seconds each slice runs before it is measured (the server's caches, cold after the others
    /// ran on its core).
    #[arg(long, default_value_t = 0.15)]
    settle: f64,
    /// Concurrent keep-alive connections to each server.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// How many distinct notifications each server is sent in turn (see `load --distinct`).
    #[arg(long, default_value_t = 131_072)]
    distinct: usize,
}

fn named_addr(text: &str) -> Result<(String, SocketAddr), String> {
    let (name, addr) = text.split_once('=').ok_or_else(|| format!("{text:?} is not NAME=ADDR"))?;
    Ok((name.to_owned(), addr.parse().map_err(|error| format!("{addr:?}: {error}"))?))
}

#[derive(Debug, clap::Args)]
struct MemoryArgs {
    /// The server (`ipn-load-server-counting`).
    #[arg(long, default_value = "127.0.0.1:8480")]
    addr: SocketAddr,
    /// Requests held in flight at once.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// Sequential requests over which allocations per request are averaged.
    #[arg(long, default_value_t = 2000)]
    sequential: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ipn-load-gen: {error}");
            return ExitCode::FAILURE;
        }
    };
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&runtime, async {
        match args.command {
            Command::Load(args) => load(args).await,
            Command::Paired(args) => paired(args).await,
            Command::Memory(args) => memory(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ipn-load-gen: {error}");
            ExitCode::FAILURE
        }
    }
}

const PATIENCE: Duration = Duration::from_secs(15);

/// A number of seconds given on the command line, as a duration.
fn seconds(option: &str, value: f64) -> io::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{option} {value}: not a number of seconds")))
}

fn serialized(addr: SocketAddr, bodies: &[Vec<u8>]) -> Vec<Vec<u8>> {
    bodies.iter().map(|body| client::post(addr, "/ipn", FORM_CONTENT_TYPE, body)).collect()
}

/// What one connection measured.
struct Tally {
    latencies: Histogram<u64>,
    errors: u64,
    answers: HashMap<(u16, Vec<u8>), u64>,
}

impl Tally {
    fn new() -> io::Result<Self> {
        // Nanoseconds, from 1 µs to 100 s, 3 significant digits.
        let latencies = Histogram::new_with_bounds(1_000, 100_000_000_000, 3)
            .map_err(|error| io::Error::other(format!("histogram: {error}")))?;
        Ok(Self { latencies, errors: 0, answers: HashMap::new() })
    }

    fn answer(&mut self, status: u16, body: &[u8]) {
        // Almost always the same answer: look it up without allocating.
        if let Some((_, count)) = self.answers.iter_mut().find(|((s, b), _)| *s == status && b == body) {
            *count += 1;
        } else {
            self.answers.insert((status, body.to_vec()), 1);
        }
    }

    fn merge(&mut self, other: Tally) -> io::Result<()> {
        self.latencies.add(&other.latencies).map_err(|error| io::Error::other(format!("histogram: {error:?}")))?;
        self.errors += other.errors;
        for (answer, count) in other.answers {
            *self.answers.entry(answer).or_insert(0) += count;
        }
        Ok(())
    }
}

/// Drives `connection` in a closed loop until `end`, taking the requests in turn from `next`:
/// the connection, and what it measured of the requests sent from `measure_from` and answered by
/// `end` (a connection error ends the loop early, counted).
async fn drive(
    mut connection: Connection,
    requests: Rc<Vec<Vec<u8>>>,
    next: Rc<Cell<usize>>,
    measure_from: Instant,
    end: Instant,
) -> io::Result<(Connection, Tally)> {
    let mut tally = Tally::new()?;
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        let index = next.get();
        next.set(if index + 1 == requests.len() { 0 } else { index + 1 });
        match connection.round_trip(&requests[index]).await {
            Ok(status) => {
                let received = Instant::now();
                if sent >= measure_from && received <= end {
                    let nanos = u64::try_from((received - sent).as_nanos()).unwrap_or(u64::MAX);
                    tally.latencies.saturating_record(nanos);
                }
                tally.answer(status, connection.body());
            }
            Err(error) => {
                eprintln!("ipn-load-gen: connection error: {error}");
                tally.errors += 1;
                break;
            }
        }
    }
    Ok((connection, tally))
}

async fn load(args: LoadArgs) -> io::Result<()> {
    let bodies = match args.bodies {
        Bodies::Fresh => form_bodies(args.distinct.max(1)),
        Bodies::Replay => form_bodies(1),
    };
    let body_bytes = bodies[0].len();
    let requests = Rc::new(serialized(args.addr, &bodies));
    drop(bodies);

    let mut connections = Vec::with_capacity(args.connections);
    for _ in 0..args.connections.max(1) {
        connections.push(Connection::connect_patiently(args.addr, PATIENCE).await?);
    }
    let next = Rc::new(Cell::new(0));
    let (warmup, duration) = (seconds("--warmup", args.warmup)?, seconds("--duration", args.duration)?);
    let measure_from = Instant::now() + warmup;
    let end = measure_from + duration;
    let tasks: Vec<_> = connections
        .into_iter()
        .map(|connection| {
            tokio::task::spawn_local(drive(connection, Rc::clone(&requests), Rc::clone(&next), measure_from, end))
        })
        .collect();
    let mut total = Tally::new()?;
    for task in tasks {
        total.merge(task.await.map_err(io::Error::other)??.1)?;
    }

    let measured = total.latencies.len();
    let micros = |q: f64| total.latencies.value_at_quantile(q) as f64 / 1000.0;
    println!("body_bytes {body_bytes}");
    println!("connections {}", args.connections);
    println!("seconds {}", args.duration);
    println!("requests {measured}");
    println!("rps {:.0}", measured as f64 / args.duration);
    println!("p50_us {:.1}", micros(0.50));
    println!("p90_us {:.1}", micros(0.90));
    println!("p99_us {:.1}", micros(0.99));
    println!("max_us {:.1}", total.latencies.max() as f64 / 1000.0);
    println!("errors {}", total.errors);
    // How many responses in all (warm-up included), and how many reached the handler: with the
    // store, a duplicate is answered without calling it.
    let answered: u64 = total.answers.values().sum();
    let mut control = Connection::connect(args.addr).await?;
    let server = stats(&mut control, &client::get(args.addr, "/__stats")).await?;
    println!("answered {answered}");
    println!("handled {}", get(&server, "handled")?);
    let mut answers: Vec<_> = total.answers.into_iter().collect();
    answers.sort_by_key(|answer| std::cmp::Reverse(answer.1));
    for ((status, body), count) in answers {
        println!("answer {status} {count} {}", String::from_utf8_lossy(&body));
    }
    if total.errors > 0 || measured == 0 {
        return Err(io::Error::other("the run had connection errors or no measured request"));
    }
    Ok(())
}

/// One server of a paired run: its connections and the next notification to send it.
struct Paired {
    name: String,
    connections: Vec<Connection>,
    next: Rc<Cell<usize>>,
    /// Requests per second, one per round.
    rps: Vec<f64>,
}

/// The first quartile, the median and the third quartile of `values`.
fn quartiles(mut values: Vec<f64>) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    let at = |q: usize| values.get((values.len().saturating_sub(1)) * q / 4).copied().unwrap_or(f64::NAN);
    [at(1), at(2), at(3)]
}

async fn paired(args: PairedArgs) -> io::Result<()> {
    let (settle, window) = (seconds("--settle", args.settle)?, seconds("--slice", args.slice)?);
    let bodies = form_bodies(args.distinct.max(1));
    // Servers do not read `Host`: one serialization serves them all.
    let requests = Rc::new(serialized(args.servers[0].1, &bodies));
    drop(bodies);
    let mut servers = Vec::with_capacity(args.servers.len());
    for (name, addr) in &args.servers {
        let mut connections = Vec::with_capacity(args.connections);
        for _ in 0..args.connections.max(1) {
            connections.push(Connection::connect_patiently(*addr, PATIENCE).await?);
        }
        servers.push(Paired { name: name.clone(), connections, next: Rc::new(Cell::new(0)), rps: Vec::new() });
    }
    let count = servers.len();
    for round in 0..args.rounds.max(1) {
        for k in 0..count {
            let server = &mut servers[(round + k) % count];
            let measure_from = Instant::now() + settle;
            let end = measure_from + window;
            let tasks: Vec<_> = std::mem::take(&mut server.connections)
                .into_iter()
                .map(|connection| {
                    let (requests, next) = (Rc::clone(&requests), Rc::clone(&server.next));
                    tokio::task::spawn_local(drive(connection, requests, next, measure_from, end))
                })
                .collect();
            let mut measured = 0;
            for task in tasks {
                let (connection, tally) = task.await.map_err(io::Error::other)??;
                if tally.errors > 0 {
                    return Err(io::Error::other(format!("{}: a connection failed", server.name)));
                }
                if let Some(((status, body), _)) = tally.answers.iter().find(|((status, _), _)| *status != 200) {
                    let body = String::from_utf8_lossy(body);
                    return Err(io::Error::other(format!("{} answered {status}: {body}", server.name)));
                }
                server.connections.push(connection);
                measured += tally.latencies.len();
            }
            server.rps.push(measured as f64 / args.slice);
        }
    }
    println!("rounds {}", args.rounds.max(1));
    println!("slice_seconds {}", args.slice);
    for server in &servers {
        println!("rps {} {:.0}", server.name, quartiles(server.rps.clone())[1]);
    }
    let reference = &servers[0];
    for server in &servers[1..] {
        let ratios = server.rps.iter().zip(&reference.rps).map(|(rps, base)| rps / base).collect();
        let [q1, median, q3] = quartiles(ratios);
        println!("ratio {} {q1:.3} {median:.3} {q3:.3}", server.name);
    }
    Ok(())
}

/// `GET /__stats`, as numbers by name.
async fn stats(control: &mut Connection, request: &[u8]) -> io::Result<HashMap<String, i128>> {
    let status = control.round_trip(request).await?;
    if status != 200 {
        return Err(io::Error::other(format!("/__stats answered {status}")));
    }
    let text = String::from_utf8_lossy(control.body());
    Ok(text
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect())
}

fn get(stats: &HashMap<String, i128>, name: &str) -> io::Result<i128> {
    stats.get(name).copied().ok_or_else(|| io::Error::other(format!("/__stats without {name}")))
}

async fn expect_ok(connection: &mut Connection, request: &[u8]) -> io::Result<()> {
    match connection.round_trip(request).await? {
        200 => Ok(()),
        status => Err(io::Error::other(format!("answered {status}: {}", String::from_utf8_lossy(connection.body())))),
    }
}

async fn memory(args: MemoryArgs) -> io::Result<()> {
    const WARM: usize = 1000;
    let n = args.in_flight.max(1);
    let r = args.sequential.max(1);
    let bodies = form_bodies(2 * n + WARM + r);
    let body_bytes = bodies[0].len();
    let mut requests = serialized(args.addr, &bodies).into_iter();
    drop(bodies);
    let mut take = move || requests.next().ok_or_else(|| io::Error::other("out of notifications"));
    let stats_request = client::get(args.addr, "/__stats");

    let mut control = Connection::connect_patiently(args.addr, PATIENCE).await?;
    let mut connections = Vec::with_capacity(n);
    for _ in 0..n {
        let mut connection = Connection::connect(args.addr).await?;
        expect_ok(&mut connection, &take()?).await?;
        connections.push(connection);
    }
    for _ in 0..WARM {
        expect_ok(&mut connections[0], &take()?).await?;
    }
    let before = stats(&mut control, &stats_request).await?;
    if get(&before, "counting")? != 1 {
        return Err(io::Error::other("the server does not count allocations: run ipn-load-server-counting"));
    }
    for _ in 0..r {
        expect_ok(&mut connections[0], &take()?).await?;
    }
    let after = stats(&mut control, &stats_request).await?;
    // One more `/__stats` to subtract what answering it costs.
    let again = stats(&mut control, &stats_request).await?;
    let per_request = |name: &str| -> io::Result<f64> {
        let stats_cost = get(&again, name)? - get(&after, name)?;
        Ok((get(&after, name)? - get(&before, name)? - stats_cost) as f64 / r as f64)
    };

    // N requests in flight at once: the server holds each in its handler until all are in.
    expect_ok(&mut control, &client::post(args.addr, &format!("/__hold/{n}"), "text/plain", b"")).await?;
    let base = stats(&mut control, &stats_request).await?;
    let mut held = Vec::with_capacity(n);
    for mut connection in connections {
        let request = take()?;
        held.push(tokio::task::spawn_local(async move { expect_ok(&mut connection, &request).await }));
    }
    for task in held {
        task.await.map_err(io::Error::other)??;
    }
    let released = stats(&mut control, &stats_request).await?;
    let in_flight = (get(&released, "held_live")? - get(&base, "live")?) as f64 / n as f64;

    println!("body_bytes {body_bytes}");
    println!("sequential {r}");
    println!("allocs_per_request {:.1}", per_request("allocations")?);
    println!("bytes_allocated_per_request {}", per_request("bytes_allocated")?.round() as i64);
    println!("reallocs_per_request {:.1}", per_request("reallocations")?);
    println!("retained_per_request {}", per_request("live")?.round() as i64);
    println!("in_flight {n}");
    println!("live_per_in_flight_request {}", in_flight.round() as i64);
    Ok(())
}
