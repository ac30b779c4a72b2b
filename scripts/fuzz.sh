#!/usr/bin/env bash
# Short fuzz run of every target in fuzz/ (not part of scripts/test.sh): scripts/fuzz.sh [SECONDS]
# [TARGET...]. Each target runs SECONDS (default 60) in turn, one at a time, on its corpus under
# fuzz/corpus/<target> (seeded by fuzz/examples/seed_corpus.rs when missing); a crash stops the
# script with the reproducer under fuzz/artifacts/.
#
# Only the stable toolchain is needed. cargo-fuzz drives libFuzzer (the C++ engine is built by
# libfuzzer-sys with the system C++ compiler) and passes rustc a few unstable flags:
#   - RUSTC_BOOTSTRAP=1 lets the stable compiler accept them (-Z flags for the sancov passes);
#   - --sanitizer none: AddressSanitizer needs a nightly standard library; the code is
#     #![forbid(unsafe_code)], so the coverage-guided search plus --debug-assertions (overflow
#     checks) is what matters here. Memory is bounded by -rss_limit_mb, hangs by -timeout.
# cargo-fuzz itself is installed from crates.io when missing (`cargo install --locked cargo-fuzz`,
# about 3 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(form rest link capture differential relabel)
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
flags=(--sanitizer none --debug-assertions)
logs=fuzz/artifacts/logs
mkdir -p "$logs"
cargo fuzz build "${flags[@]}"
# The corpus is not in git: the seeds (signed notifications of every template) are generated.
if [ ! -d fuzz/corpus ]; then
  (cd fuzz && cargo run --quiet --example seed_corpus)
fi
for target in "${targets[@]}"; do
  echo "=== $target (${seconds}s, $(date -u +%H:%M:%S))"
  log="$logs/$target.log"
  if ! cargo fuzz run "${flags[@]}" "$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=8192 -print_final_stats=1 \
    >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz.sh: $target failed; see $log and fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done|^stat::' "$log" || true
done
