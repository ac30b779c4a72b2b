#!/usr/bin/env bash
# Instructions per verification, per scheme, beside their floor, counted by callgrind: unlike
# times, the counts do not move with the other work on the machine. valgrind hides SHA-NI, so
# SHA-256 runs in software there and the floors (one HMAC, plus the body digest for links) weigh
# far more than on the CPU: read the "above the floor" column, what our own code costs.
# Prints the table.
# Usage: benches/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "bench-instructions.sh: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
cargo build --release -p ipn-core --example stages >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# count STAGE: instructions per iteration, the difference of two runs (N=1000 and N=11000, each
# with N/10 warm-up iterations) divided by the 11000 iterations between them.
count() {
  local total=()
  for n in 1000 11000; do
    STAGE="$1" N=$n valgrind --tool=callgrind --callgrind-out-file="$out/cg" target/release/examples/stages \
      >/dev/null 2>"$out/log"
    total+=("$(awk '/Collected/ { print $4 }' "$out/log")")
  done
  echo $(((total[1] - total[0]) / 11000))
}

rows=()
# The floors with the key's HMAC state kept, as the verifier keeps it per secret: the column
# "above the floor" is then our own code alone (the plain floors hash the two key pads too).
for pair in "form:hmac floor keyed:verify total" "form_2k:form_2k floor keyed:form_2k verify" "rest:rest-floor keyed:rest" \
  "link:link-floor keyed:link"; do
  IFS=: read -r scheme floor verify <<<"$pair"
  f=$(count "$floor")
  v=$(count "$verify")
  rows+=("| $scheme | $f | $v | $((v - f)) |")
  echo "$scheme: floor $f, verify $v" >&2
done

cat >"$out/block" <<TABLE
<!-- instructions:begin -->
Command: \`benches/instructions.sh\` (callgrind, instructions per call; $(valgrind --version), $(rustc --version)).

| scheme | floor (key state kept) | verify and parse | above the floor (our code) |
|---|---:|---:|---:|
$(printf '%s\n' "${rows[@]}")
<!-- instructions:end -->
TABLE
scripts/write-between-markers.sh instructions "$out/block" -
