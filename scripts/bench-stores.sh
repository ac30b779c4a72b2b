#!/usr/bin/env bash
# Claim + complete throughput of every notification store back-end (PostgreSQL and Redis started
# on loopback by scripts/test-services.sh when it can), as ratios against the in-memory store from
# one run; writes the table into BENCHMARKS.md and the README's performance section.
# Usage: scripts/bench-stores.sh [MEASUREMENT_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3}
if [ -z "${IPN_TEST_POSTGRES_URL:-}${IPN_TEST_REDIS_URL:-}" ] && services=$(scripts/test-services.sh); then
  eval "$services"
fi
rm -rf target/criterion/store
cargo bench -p ipn-core --all-features --bench store -- --warm-up-time 1 --measurement-time "$seconds" >&2

python3 - "$seconds" <<'PY'
import json, pathlib, re, sys
rows = []
base = None
for name in ["memory", "sqlite", "postgres", "redis"]:
    path = pathlib.Path(f"target/criterion/store/{name}_claim_complete/new/estimates.json")
    if not path.exists():
        rows.append(f"| {name} | not measured (server not configured) | | |")
        continue
    ns = json.loads(path.read_text())["median"]["point_estimate"]
    base = base or ns
    rows.append(f"| {name} | {ns / 1000:.1f} | {1e9 / ns:,.0f} | {ns / base:.1f}x |".replace(",", " "))
table = "\n".join([
    f"Command: `scripts/bench-stores.sh {sys.argv[1]}`: one claim then one complete of a fresh fingerprint, sequential,",
    "one client (criterion medians, one run; servers on loopback).",
    "",
    "| store | claim + complete (µs) | per second, one client | × memory |",
    "|---|---:|---:|---:|",
    *rows,
])
for doc, heading in [("BENCHMARKS.md", "## Notification stores"), ("README.md", "## Performance")]:
    p = pathlib.Path(doc)
    text = p.read_text()
    block = "<!-- stores:begin -->\n" + table + "\n<!-- stores:end -->"
    if "<!-- stores:begin -->" in text:
        text = re.sub(r"<!-- stores:begin -->.*<!-- stores:end -->", block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n" + ("Verification and load figures: `BENCHMARKS.md`.\n\n" if doc == "README.md" else "") + block + "\n"
    p.write_text(text)
print(table)
PY
