#!/usr/bin/env bash
# Benchmark of `hopthu directory import`: the 2011 sample province (427 units) and a generated
# file of 20,000 people (tools/gen-people.py), imported into an empty data directory.
#
#   tools/bench-import.sh [COUNT] [PROFILE]     # defaults: 20000 release
#
# Prints the dry-run (planning only) and the real import times; the import itself also prints
# its own figure ("… trong / in N s").
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000}
profile=${2:-release}
if [ "$profile" = release ]; then
  cargo build --release -p hopthu
  bin=${CARGO_TARGET_DIR:-target}/release/hopthu
else
  cargo build -p hopthu
  bin=${CARGO_TARGET_DIR:-target}/debug/hopthu
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
units=crates/server/tests/it/data/units-2011.csv
python3 tools/gen-people.py --units "$units" --count "$count" > "$work/people.csv"
printf 'domain = "caobang.gov.vn"\ndata_dir = "data"\n' > "$work/hopthu.toml"

echo "== dry run: $count people + $(($(wc -l < "$units") - 1)) units"
start=$(date +%s%N)
"$bin" directory import --units "$units" --people "$work/people.csv" --dry-run --format json \
  --config "$work/hopthu.toml" > "$work/plan.json"
echo "planning: $(( ($(date +%s%N) - start) / 1000000 )) ms"

echo "== import"
start=$(date +%s%N)
"$bin" directory import --units "$units" --people "$work/people.csv" --config "$work/hopthu.toml"
echo "import: $(( ($(date +%s%N) - start) / 1000000 )) ms (wall, process start to exit)"
