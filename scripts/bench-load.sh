#!/usr/bin/env bash
# The load benchmark of the IPN adapters: scripts/bench-load.sh [SECONDS]
#
# For axum and actix-web, each route of ipn-load-server (bare, floor, ipn, ipn-store) is served on
# one worker thread pinned to one core, and driven over loopback by ipn-load-gen pinned to another
# core: keep-alive connections in a closed loop, a warm-up, then SECONDS (default 10) measured.
# ipn-store runs twice: fresh notifications (distinct ones, more than the store holds, so none is
# a duplicate) and replayed duplicates (one notification sent again and again). Then, per
# framework, the paired measurement: those four routes, `direct` (the core's verification called
# from a plain handler, without the middleware) and `naive` (the naive form check in a plain
# handler, the issue's third reference figure) served at once and driven in turn, in short
# slices, by `ipn-load-gen paired`, which takes each round's ratios to the floor (the target's
# verdict comes from these: rows run one after the other drift with the other work on a shared
# machine). Then the memory measurement runs against ipn-load-server-counting. The tables are
# written into BENCHMARKS.md between the markers, and printed.
#
# Environment: IPN_LOAD_WARMUP (seconds, 2), IPN_LOAD_CONNECTIONS (32), IPN_LOAD_SERVER_CPU (0),
# IPN_LOAD_GEN_CPU (1), IPN_LOAD_PORT (first port, 18480), IPN_LOAD_IN_FLIGHT (256),
# IPN_LOAD_DISTINCT (131072 distinct notifications for the fresh rows: keep it above the store's
# capacity of 100000), IPN_LOAD_ROUNDS (1: with more, every load row is run that many times, rounds one after the other,
# and the table shows the round of median req/s of each row), IPN_LOAD_PAIRED_ROUNDS (21),
# IPN_LOAD_SLICE (seconds measured per route and round, 0.5), IPN_LOAD_OUTPUT (BENCHMARKS.md; "-"
# to only print).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-10}
warmup=${IPN_LOAD_WARMUP:-2}
connections=${IPN_LOAD_CONNECTIONS:-32}
server_cpu=${IPN_LOAD_SERVER_CPU:-0}
gen_cpu=${IPN_LOAD_GEN_CPU:-1}
port=${IPN_LOAD_PORT:-18480}
in_flight=${IPN_LOAD_IN_FLIGHT:-256}
distinct=${IPN_LOAD_DISTINCT:-131072}
rounds=${IPN_LOAD_ROUNDS:-1}
paired_rounds=${IPN_LOAD_PAIRED_ROUNDS:-21}
slice=${IPN_LOAD_SLICE:-0.5}
output=${IPN_LOAD_OUTPUT:-BENCHMARKS.md}

command -v taskset >/dev/null || { echo "bench-load.sh: taskset (util-linux) is required" >&2; exit 1; }

cargo build --release --quiet -p ipn-load --bins
bin="${CARGO_TARGET_DIR:-target}/release"
results=$(mktemp -d)
server_pids=()
cleanup() {
  if [ ${#server_pids[@]} -gt 0 ]; then kill "${server_pids[@]}" 2>/dev/null || true; fi
  rm -rf "$results"
}
trap cleanup EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# serve SERVER_BINARY FRAMEWORK ROUTE: starts the server on the next port, pinned to the server
# core; its address is then 127.0.0.1:$port.
serve() {
  port=$((port + 1))
  taskset -c "$server_cpu" "$bin/$1" --framework "$2" --route "$3" --bind "127.0.0.1:$port" &
  server_pids+=($!)
}

# stop: stops the servers started.
stop() {
  kill "${server_pids[@]}"
  wait "${server_pids[@]}" 2>/dev/null || true
  server_pids=()
}

# run SERVER_BINARY FRAMEWORK ROUTE RESULT_FILE GENERATOR_ARGS...
run() {
  local server=$1 framework=$2 route=$3 result=$4
  shift 4
  serve "$server" "$framework" "$route"
  if ! taskset -c "$gen_cpu" "$bin/ipn-load-gen" "$@" --addr "127.0.0.1:$port" >"$result"; then
    echo "bench-load.sh: $framework $route failed" >&2
    exit 1
  fi
  stop
}

# paired FRAMEWORK RESULT_FILE: the six routes served at once (a route waits idle while the
# others are driven) and driven in turn, the floor first, by `ipn-load-gen paired`.
paired() {
  local framework=$1 result=$2 route servers=()
  for route in floor bare direct ipn ipn-store naive; do
    serve ipn-load-server "$framework" "$route"
    servers+=(--server "$route=127.0.0.1:$port")
  done
  if ! taskset -c "$gen_cpu" "$bin/ipn-load-gen" paired "${servers[@]}" --rounds "$paired_rounds" --slice "$slice" \
    --connections "$connections" --distinct "$distinct" >"$result"; then
    echo "bench-load.sh: $framework paired failed" >&2
    exit 1
  fi
  stop
}

for round in $(seq "$rounds"); do
  for framework in axum actix; do
    for route in bare floor ipn ipn-store; do
      echo "load (round $round/$rounds): $framework $route, fresh notifications (${warmup}s warm-up, ${duration}s)" >&2
      run ipn-load-server "$framework" "$route" "$results/round$round-load-$framework-$route-fresh" \
        load --duration "$duration" --warmup "$warmup" --connections "$connections" --bodies fresh --distinct "$distinct"
    done
    echo "load (round $round/$rounds): $framework ipn-store, replayed duplicates" >&2
    run ipn-load-server "$framework" ipn-store "$results/round$round-load-$framework-ipn-store-replay" \
      load --duration "$duration" --warmup "$warmup" --connections "$connections" --bodies replay
  done
done
# Each row: the round of median req/s (all its columns come from that round).
for framework in axum actix; do
  for run in bare-fresh floor-fresh ipn-fresh ipn-store-fresh ipn-store-replay; do
    median=$(for f in "$results"/round*-load-"$framework-$run"; do
      echo "$(awk '$1 == "rps" { print $2 }' "$f") $f"
    done | sort -n | awk '{ line[NR] = $2 } END { print line[int((NR + 1) / 2)] }')
    cp "$median" "$results/load-$framework-$run"
  done
done
for framework in axum actix; do
  echo "paired: $framework floor, bare, direct, ipn, ipn-store, naive in turn ($paired_rounds rounds of ${slice}s each)" >&2
  paired "$framework" "$results/paired-$framework"
done
for framework in axum actix; do
  for route in bare floor ipn ipn-store; do
    echo "memory: $framework $route" >&2
    run ipn-load-server-counting "$framework" "$route" "$results/memory-$framework-$route" \
      memory --in-flight "$in_flight"
  done
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# value FILE NAME: the value of a `name value` line.
value() { awk -v n="$2" '$1 == n { print $2; exit }' "$1"; }
# paired_ratio FILE ROUTE: the route's median ratio to the floor, with its quartiles.
paired_ratio() {
  awk -v r="$2" '$1 == "ratio" && $2 == r { printf "%.2f (%.2f–%.2f)", $4, $3, $5; exit }' "$1"
}
# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# thousands N: 123456 -> 123 456.
thousands() { printf '%s' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\| \)/\1 \2\3/' -e 'ta'; }

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
sha=$(grep -qw sha_ni /proc/cpuinfo && echo "SHA-NI" || echo "no SHA-NI")
table=$results/table.md
{
  echo "<!-- bench-load:begin (written by scripts/bench-load.sh; do not edit by hand) -->"
  echo
  [ "$rounds" -gt 1 ] && rounds_note=" (IPN_LOAD_ROUNDS=$rounds: each row is its round of median req/s)" || rounds_note=
  echo "Run: \`scripts/bench-load.sh $duration\`$rounds_note on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($cpu, $sha),"
  echo "Linux $(uname -r), $(rustc -V | cut -d' ' -f1-2); server on core $server_cpu, generator on core $gen_cpu;"
  echo "${warmup} s warm-up then ${duration} s per row, $connections keep-alive connections; load average"
  echo "$load_before before, $load_after after (rows run one after the other: other work on the machine moves"
  echo "them, and their ratios, by several percent; the paired table below takes the ratios within rounds). Body: $(value "$results/load-axum-ipn-fresh" body_bytes) bytes (the testkit's accepted-payment form, ~55 fields)."
  echo
  echo "| framework | route | notifications | req/s | p50 (µs) | p99 (µs) | vs floor | reached the handler |"
  echo "|---|---|---|---:|---:|---:|---:|---|"
  for framework in axum actix; do
    floor=$(value "$results/load-$framework-floor-fresh" rps)
    for run in bare-fresh floor-fresh ipn-fresh ipn-store-fresh ipn-store-replay; do
      f=$results/load-$framework-$run
      route=${run%-*}
      kind=${run##*-}
      [ "$kind" = replay ] && kind="replayed duplicate" || kind="fresh"
      rps=$(value "$f" rps)
      echo "| $framework | $route | $kind | $(thousands "$rps") | $(value "$f" p50_us) | $(value "$f" p99_us) |" \
        "$(ratio "$rps" "$floor") | $(thousands "$(value "$f" handled)") of $(thousands "$(value "$f" answered)") |"
    done
  done
  echo
  echo "Paired (\`ipn-load-gen paired\`, $(value "$results/paired-axum" rounds) rounds of ${slice} s per route, in an order that"
  echo "rotates): each round's req/s over the floor's of the same round, median (quartiles). \`direct\`"
  echo "calls the core's verification from a plain handler (floor to direct: the verification; direct to"
  echo "ipn: the middleware); \`naive\` runs the naive form check. The guard is read here:"
  echo
  echo "| framework | bare / floor | naive / floor | direct / floor | ipn / floor | ipn-store / floor (fresh) | guard: ipn ≥ 0.70 × floor |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for framework in axum actix; do
    f=$results/paired-$framework
    ipn=$(awk '$1 == "ratio" && $2 == "ipn" { print $4; exit }' "$f")
    if awk -v r="$ipn" 'BEGIN { exit !(r >= 0.70) }'; then verdict=met; else verdict=missed; fi
    echo "| $framework | $(paired_ratio "$f" bare) | $(paired_ratio "$f" naive) | $(paired_ratio "$f" direct) | $(paired_ratio "$f" ipn) |" \
      "$(paired_ratio "$f" ipn-store) | $verdict |"
  done
  echo
  echo "Memory (ipn-load-server-counting, a counting global allocator; averages over"
  echo "$(value "$results/memory-axum-ipn" sequential) sequential requests, and $in_flight requests held in flight at once):"
  echo
  echo "| framework | route | allocations / request | bytes allocated / request | bytes retained / request | live bytes per in-flight request |"
  echo "|---|---|---:|---:|---:|---:|"
  for framework in axum actix; do
    for route in bare floor ipn ipn-store; do
      f=$results/memory-$framework-$route
      echo "| $framework | $route | $(value "$f" allocs_per_request) | $(thousands "$(value "$f" bytes_allocated_per_request)") |" \
        "$(thousands "$(value "$f" retained_per_request)") | $(thousands "$(value "$f" live_per_in_flight_request)") |"
    done
  done
  echo
  echo "<!-- bench-load:end -->"
} >"$table"

scripts/write-between-markers.sh bench-load "$table" "$output"
