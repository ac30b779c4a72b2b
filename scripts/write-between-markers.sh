#!/usr/bin/env bash
# Prints a generated block and puts it into a document: scripts/write-between-markers.sh NAME
# BLOCK DOCUMENT (DOCUMENT "-": print only).
#
# BLOCK is a file that starts with the line `<!-- NAME:begin ...` and ends with `<!-- NAME:end -->`.
# In DOCUMENT, the lines from its own `<!-- NAME:begin` line to its `<!-- NAME:end` line are
# replaced by BLOCK; a document without them gets BLOCK appended after an empty line. The
# benchmark scripts write their tables this way, so that no figure is typed in by hand.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 NAME BLOCK DOCUMENT" >&2; exit 2; }
name=$1 block=$2 document=$3
cat "$block"
[ "$document" != "-" ] || exit 0
if [ -f "$document" ] && grep -q "^<!-- $name:begin" "$document"; then
  updated=$(mktemp)
  trap 'rm -f "$updated"' EXIT
  awk -v block="$block" -v begin="^<!-- $name:begin" -v end="^<!-- $name:end" '
    $0 ~ begin { while ((getline line < block) > 0) print line; skipping = 1; next }
    $0 ~ end { skipping = 0; next }
    !skipping { print }
  ' "$document" >"$updated"
  cat "$updated" >"$document"
else
  { echo; cat "$block"; } >>"$document"
fi
echo "$name: tables written to $document" >&2
