#!/usr/bin/env bash
# Runs the criterion benchmarks of ipn-core: per scheme, verify-and-parse beside its floor (the
# HMAC of the signed bytes) and, for form and REST, a naive pipeline (form_urlencoded or
# serde_json, sort, HMAC), all in one run; writes the table of medians and the guards into
# BENCHMARKS.md between the `core` markers. Usage: scripts/bench-core.sh [MEASUREMENT_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rm -rf target/criterion
cargo bench -p ipn-core --bench verify -- --warm-up-time 2 --measurement-time "$seconds" >&2

block=$(mktemp)
trap 'rm -f "$block"' EXIT
python3 - "$seconds" >"$block" <<'PY'
import json, pathlib, platform, subprocess, sys, time

def median(group, bench):
    path = pathlib.Path("target/criterion") / group / bench / "new/estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"] / 1000  # microseconds

# The floor of each group, and the guard on naive / verify-and-parse (issue 26).
plan = {
    "form": ("floor_hmac_signing_string", 3.0),
    "form_2k": ("floor_hmac_signing_string", 3.0),
    "rest": ("floor_hmac_answer", 2.0),
    "link": ("floor_hmac_and_body_digest", None),
}
rows = []
for group, (floor_name, guard) in plan.items():
    floor, verify = median(group, floor_name), median(group, "verify_and_parse")
    if guard is None:
        rows.append(f"| {group} | {floor:.2f} | {verify:.2f} | | | no naive pipeline |")
        continue
    naive = median(group, "naive")
    verdict = ("meets" if naive / verify >= guard else "misses") + f" ≥ {guard:.0f}x"
    rows.append(f"| {group} | {floor:.2f} | {verify:.2f} | {naive:.2f} | {naive / verify:.2f}x | {verdict} |")

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
print("\n".join([
    "<!-- core:begin -->",
    f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; {rustc}.",
    f"Command: `scripts/bench-core.sh {sys.argv[1]}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (criterion medians, one run).",
    "",
    "| scheme | floor (µs) | verify-and-parse (µs) | naive (µs) | naive / verify | guard |",
    "|---|---:|---:|---:|---:|---|",
    *rows,
    "<!-- core:end -->",
]))
PY
scripts/write-between-markers.sh core "$block" BENCHMARKS.md
