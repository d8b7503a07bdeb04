#!/usr/bin/env bash
# Benchmark of the inactivity sweep (`hopthu lifecycle sweep`): the 2011 sample province
# (427 units) and COUNT generated people (tools/gen-people.py), imported the same day, so that
# every personal mailbox is warned on the same day and revoked on the same day — the worst case.
#
#   tools/bench-sweep.sh [COUNT] [PROFILE]     # defaults: 20000 release
#
# Prints the time of a dry run, of the sweep that sends the 30-day warnings (one mail per person,
# one list per unit) and of the sweep that revokes everyone (one transaction, one notice per unit).
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
printf 'domain = "caobang.gov.vn"\ndata_dir = "data"\n[lifecycle]\nfocal_unit = "CB11-011"\n' \
  > "$work/hopthu.toml"
"$bin" directory import --units "$units" --people "$work/people.csv" --config "$work/hopthu.toml" \
  > /dev/null

day() { date -u -d "+$1 days" +%Y-%m-%dT%H:%M:%SZ; }
run() {
  local label=$1; shift
  local start; start=$(date +%s%N)
  "$bin" lifecycle sweep "$@" --format json --config "$work/hopthu.toml" > "$work/out.json"
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  python3 - "$work/out.json" "$label" "$ms" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]}: {sys.argv[3]} ms — warned {len(r['warned'])}, revoked {len(r['revoked'])}, purged {len(r['purged'])}")
PY
}
echo "== $count people, $(($(wc -l < "$units") - 1)) units"
run "dry run (day 160)" --as-of "$(day 160)" --dry-run
run "warnings (day 160)" --as-of "$(day 160)"
run "nothing to do (day 161)" --as-of "$(day 161)"
run "revocations (day 183)" --as-of "$(day 183)"
