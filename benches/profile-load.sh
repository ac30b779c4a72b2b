#!/usr/bin/env bash
# Where a load-benchmark route spends its time beyond the floor route's, in nanoseconds per
# request, on the real CPU (SHA-NI included, unlike callgrind): benches/profile-load.sh
# [FRAMEWORK [ROUTE [SECONDS]]] (axum, ipn, 5).
#
# The floor route and ROUTE are each served by ipn-load-server on one core and driven by
# ipn-load-gen from another, as in scripts/bench-load.sh; `perf record` samples the server's CPU
# (the cpu-clock event, which works in virtual machines without hardware counters). A symbol's
# share of the samples, times the share of the time the server was busy, divided by the
# requests per second, is its time per request. Prints both routes' totals by category (ipn-core with hmac and base64,
# SHA-256, kernel, allocator, mem*, the adapters, the rest: hyper, tokio, axum, actix-web), then
# the symbols that differ most.
#
# The tables are printed (or written between the `profile-load` markers of IPN_PROFILE_OUTPUT).
#
# Needs perf (Debian package linux-perf) and permission to record the server
# (kernel.perf_event_paranoid <= 1, or root). Environment: IPN_LOAD_SERVER_CPU (0),
# IPN_LOAD_GEN_CPU (1), IPN_LOAD_PORT (first port, 18580), IPN_PROFILE_KEEP (a directory to keep
# the perf.data files in), IPN_PROFILE_OUTPUT (a document to write the tables into; "-", the default, only prints).
set -euo pipefail
cd "$(dirname "$0")/.."

framework=${1:-axum}
route=${2:-ipn}
seconds=${3:-5}
server_cpu=${IPN_LOAD_SERVER_CPU:-0}
gen_cpu=${IPN_LOAD_GEN_CPU:-1}
port=${IPN_LOAD_PORT:-18580}
output=${IPN_PROFILE_OUTPUT:--}
rate=2000

command -v perf >/dev/null || { echo "profile-load.sh: perf is needed (Debian package linux-perf)" >&2; exit 1; }
command -v taskset >/dev/null || { echo "profile-load.sh: taskset (util-linux) is needed" >&2; exit 1; }

cargo build --release --quiet -p ipn-load --bins
bin="${CARGO_TARGET_DIR:-target}/release"
out=${IPN_PROFILE_KEEP:-$(mktemp -d)}
mkdir -p "$out"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  [ -n "${IPN_PROFILE_KEEP:-}" ] || rm -rf "$out"
}
trap cleanup EXIT

# profile ROUTE: perf.data and the generator's report in $out, named after the route.
profile() {
  port=$((port + 1))
  taskset -c "$server_cpu" "$bin/ipn-load-server" --framework "$framework" --route "$1" --bind "127.0.0.1:$port" \
    >/dev/null &
  server_pid=$!
  # The generator warms up for 2 s, then measures; perf records inside the measured window.
  taskset -c "$gen_cpu" "$bin/ipn-load-gen" load --addr "127.0.0.1:$port" --warmup 2 --duration $((seconds + 2)) \
    >"$out/$1.gen" &
  local gen_pid=$!
  sleep 3
  perf record --quiet -e cpu-clock -F "$rate" -o "$out/$1.data" -p "$server_pid" -- sleep "$seconds" >/dev/null 2>&1
  wait "$gen_pid"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  perf report --quiet -i "$out/$1.data" --no-children --sort symbol --stdio -g none --percent-limit 0 \
    >"$out/$1.report" 2>/dev/null
  grep -q . "$out/$1.report" || { echo "profile-load.sh: perf recorded nothing (perf_event_paranoid?)" >&2; exit 1; }
}

profile floor
profile "$route"

table=$out/table.md
{
  echo "<!-- profile-load:begin (written by benches/profile-load.sh; do not edit by hand) -->"
  echo
  echo "Run: \`benches/profile-load.sh $framework $route $seconds\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores,"
  echo "Linux $(uname -r), $(rustc -V | cut -d' ' -f1-2); server on core $server_cpu, generator on core $gen_cpu;"
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg) after."
  echo
  python3 - "$out" "$route" "$rate" "$seconds" "$framework" <<'EOF'
import collections, re, subprocess, sys

out, route, rate, seconds, framework = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def load(name):
    rps = float(re.search(r"^rps (\S+)", open(f"{out}/{name}.gen").read(), re.M).group(1))
    shares = collections.Counter()
    for line in open(f"{out}/{name}.report"):
        # `perf report` pads the symbol and may add IPC columns ("-  -") after it.
        m = re.match(r"\s*([\d.]+)%\s+\[([.k])\]\s+(.*?)(\s+-\s+-)?\s*$", line)
        if m:
            shares[("[k] " if m.group(2) == "k" else "") + m.group(3)] += float(m.group(1)) / 100
    return rps, shares

def busy(name):
    # The samples recorded, against those of a server busy all the time.
    count = subprocess.run(["perf", "script", "-i", f"{out}/{name}.data", "-F", "ip"],
                           capture_output=True, text=True).stdout.count("\n")
    return min(1.0, count / (rate * seconds))

def per_request(name):
    rps, shares = load(name)
    b = busy(name)
    return rps, b, {sym: share * b * 1e9 / rps for sym, share in shares.items()}

def category(sym):
    if sym.startswith("[k] "):
        return "kernel"
    if "sha2::" in sym:
        return "SHA-256"
    if re.search(r"ipn_core|hmac|digest::|base64|subtle", sym):
        return "ipn-core, hmac, base64"
    if re.search(r"ipn_tower|ipn_actix", sym):
        return "adapter"
    if re.search(r"malloc|free|unlink_chunk|__rust_(de)?alloc|__rdl_", sym):
        return "allocator"
    if re.search(r"__mem(move|cpy|set|cmp)", sym):
        return "mem*"
    return "the rest"

(frps, fbusy, floor), (rrps, rbusy, measured) = per_request("floor"), per_request(route)
print(f"{framework}: floor {frps:,.0f} req/s (server busy {fbusy:.0%}), {route} {rrps:,.0f} req/s "
      f"(busy {rbusy:.0%}); nanoseconds per request")
print()
print(f"| category | floor | {route} | difference |")
print("|---|---:|---:|---:|")
cats = ["ipn-core, hmac, base64", "SHA-256", "adapter", "allocator", "mem*", "the rest", "kernel"]
totals = [collections.Counter(), collections.Counter()]
for i, table in enumerate((floor, measured)):
    for sym, ns in table.items():
        totals[i][category(sym)] += ns
for c in cats:
    print(f"| {c} | {totals[0][c]:,.0f} | {totals[1][c]:,.0f} | {totals[1][c] - totals[0][c]:+,.0f} |")
print(f"| total | {sum(totals[0].values()):,.0f} | {sum(totals[1].values()):,.0f} | "
      f"{sum(totals[1].values()) - sum(totals[0].values()):+,.0f} |")
print()
print(f"| symbol | floor | {route} | difference |")
print("|---|---:|---:|---:|")
diff = sorted(((measured.get(s, 0) - floor.get(s, 0), s) for s in set(floor) | set(measured)), reverse=True)
for d, sym in diff[:25] + [row for row in diff[-5:] if row[0] < 0]:
    name = sym if len(sym) <= 90 else sym[:87] + "..."
    print(f"| `{name}` | {floor.get(sym, 0):,.0f} | {measured.get(sym, 0):,.0f} | {d:+,.0f} |")
EOF
  echo
  echo "<!-- profile-load:end -->"
} >"$table"

scripts/write-between-markers.sh profile-load "$table" "$output"
