#!/usr/bin/env bash
# Runs the criterion benchmarks of ipn-core (verify-and-parse per scheme beside its floor and a
# naive pipeline, all in one run), then the paired benchmark (the floors and the verification
# timed in alternation, the ratio taken within each round), and writes the tables of medians and
# ratios into BENCHMARKS.md between the `core` markers. Usage: scripts/bench-core.sh
# [MEASUREMENT_SECONDS] (IPN_PAIRED_ROUNDS: the paired benchmark's rounds, 601).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rm -rf target/criterion
cargo bench -p ipn-core --bench verify -- --warm-up-time 2 --measurement-time "$seconds" >&2
paired=$(cargo bench -p ipn-core --bench paired | grep '^paired ')
echo "$paired" >&2

block=$(mktemp)
trap 'rm -f "$block"' EXIT
IPN_PAIRED="$paired" python3 - "$seconds" >"$block" <<'PY'
import json, os, pathlib, platform, subprocess, sys, time

def median(group, bench):
    path = pathlib.Path("target/criterion") / group / bench / "new/estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]  # nanoseconds

def verdict(ratio, target):
    return ("meets" if ratio <= target else "misses") + f" ≤ {target:.0f}x"

rows, ratios = [], []
plan = {
    "form": ("floor_hmac_signing_string", [("verify_and_parse", 3.0), ("naive", None)]),
    "form_2k": ("floor_hmac_signing_string", [("verify_and_parse", 3.0), ("naive", None)]),
    "rest": ("floor_hmac_answer", [("verify_and_parse", 4.0), ("naive", None)]),
    "link": ("floor_hmac_and_body_digest", [("verify_and_parse", 2.0)]),
}
for group, (floor_name, others) in plan.items():
    floor = median(group, floor_name)
    rows.append(f"| {group} | {floor_name} | {floor / 1000:.2f} | 1.00x | |")
    for name, target in others:
        t = median(group, name)
        rows.append(f"| {group} | {name} | {t / 1000:.2f} | {t / floor:.2f}x | {'' if target is None else verdict(t / floor, target)} |")
    # The verifier keeps each secret's keyed HMAC state; the floor as the issue defines it
    # hashes the key's pads each time. Against a floor that keeps the state too:
    keyed = median(group, "floor_keyed")
    ratios.append(f"- {group}: verify-and-parse / floor with a kept key state ({keyed / 1000:.2f} µs) = "
                  f"{median(group, 'verify_and_parse') / keyed:.2f}x")
    if "naive" in dict(others):
        ratios.append(f"- {group}: naive / verify-and-parse = {median(group, 'naive') / median(group, 'verify_and_parse'):.2f}x"
                      + (" (target ≥ 2x)" if group.startswith("form") else ""))
    if group.startswith("form"):
        # The issue's own figures place its machine: the naive pipeline at 5.6 µs against an HMAC
        # of 0.65 µs, over a 2 KiB notification (form_2k's size). Scalar code against SHA-NI:
        # where this reads far higher, every verification (ours too) pays it against the floor.
        ratios.append(f"- {group}: naive / floor = {median(group, 'naive') / floor:.2f}x (the issue's machine: 5.6 µs / 0.65 µs = 8.6x, "
                      + ("over a 2 KiB notification with a 1 KiB signing string, about form_2k's size)" if group == "form_2k"
                         else "over a notification whose signing string, 1 KiB, is twice this vector's)"))

# The paired benchmark: per scheme, medians per call, then verify / floor (quartiles) and
# verify / floor with a kept key state, over the rounds.
targets = {group: dict(others)["verify_and_parse"] for group, (_, others) in plan.items()}
paired_rows = []
for line in os.environ["IPN_PAIRED"].splitlines():
    _, scheme, floor, keyed, verify, q1, mid, q3, keyed_mid, rounds = line.split()
    if not paired_rows:
        paired_rows += [
            f"Paired (`cargo bench -p ipn-core --bench paired`, {rounds} rounds): each round times about 10 ms of the "
            "floor, of the floor with a kept key state and of verify-and-parse, in a rotating order, and takes the "
            "ratios within the round, so that the host slowing down between two criterion benchmarks does not move them.",
            "",
            "| scheme | floor (µs) | kept-state floor (µs) | verify-and-parse (µs) | × floor: median (quartiles) | × kept-state floor | target |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
    paired_rows.append(f"| {scheme} | {float(floor) / 1000:.2f} | {float(keyed) / 1000:.2f} | {float(verify) / 1000:.2f} | "
                       f"{float(mid):.2f}x ({float(q1):.2f}–{float(q3):.2f}) | {float(keyed_mid):.2f}x | "
                       f"{verdict(float(mid), targets[scheme])} |")

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
sha = "yes" if any(" sha_ni" in l for l in open("/proc/cpuinfo") if l.startswith("flags")) else "no"
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
table = "\n".join([
    f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, SHA-NI: {sha}; {rustc}.",
    f"Command: `scripts/bench-core.sh {sys.argv[1]}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (criterion medians, one run; ratios are against the floor of the same group).",
    "",
    "| scheme | benchmark | median (µs) | × floor | target |",
    "|---|---|---:|---:|---|",
    *rows,
    "",
    *ratios,
    "",
    *paired_rows,
])
print("<!-- core:begin -->", table, "<!-- core:end -->", sep="\n")
PY
scripts/write-between-markers.sh core "$block" BENCHMARKS.md
