#!/usr/bin/env bash
# Instructions and allocations per request of the load benchmark's routes, called in process
# (benches/load/examples/inprocess.rs: the same apps as ipn-load-server, without sockets), for
# both frameworks, and the core's share of the ipn routes without a framework (`core`,
# `core-store`). Instructions are counted by callgrind (steady on a shared machine, unlike times;
# valgrind hides SHA-NI, so SHA-256 runs in software there and the HMAC and the fingerprint weigh
# far more than on the CPU): the adapter's own cost is `ipn - bare - core`. Prints a table.
# Usage: scripts/bench-adapters.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "bench-adapters.sh: valgrind is needed" >&2; exit 1; }
cargo build --release --quiet -p ipn-load --examples
bin="${CARGO_TARGET_DIR:-target}/release/examples"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# count FRAMEWORK ROUTE: instructions per request, the difference of two runs (N=1000 and
# N=11000, each after N/10 warm-up requests) divided by the 11000 requests between them.
count() {
  local total=()
  for n in 1000 11000; do
    FRAMEWORK=$1 ROUTE=$2 N=$n valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin/inprocess" \
      >/dev/null 2>"$out/log"
    total+=("$(awk '/Collected/ { print $4 }' "$out/log")")
  done
  echo $(((total[1] - total[0]) / 11000))
}
allocs() {
  FRAMEWORK=$1 ROUTE=$2 N=2000 "$bin/inprocess-counting" | awk '$1 == "allocations/request" { print $2 }'
}

echo "| framework | route | instructions / request | allocations / request |"
echo "|---|---|---:|---:|"
for route in core core-store; do
  echo "| - | $route | $(count - "$route") | $(allocs - "$route") |"
done
for framework in axum actix; do
  for route in bare floor ipn ipn-store; do
    echo "| $framework | $route | $(count "$framework" "$route") | $(allocs "$framework" "$route") |"
  done
done
