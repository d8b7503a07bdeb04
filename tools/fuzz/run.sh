#!/bin/bash
# Long fuzz runs of the parsers, with the same generators as the unit tests (crates/fuzz):
# SMTP command lines, IMAP framing + commands with literals + MIME sections, POP3 commands and
# messages, the webmail's and the search index's MIME handling, CSV and .xlsx import files.
#
#   tools/fuzz/run.sh [--seconds T | --cases N] [--seed S] [TARGET...]
#
# TARGET is a test-name filter (default: every fuzz_ test): fuzz_framer, fuzz_mime,
# fuzz_command_lines, fuzz_commands_and_messages, fuzz_webmail, fuzz_csv_and_xlsx. Each target
# runs T seconds (default 60) or N cases; a panic fails the run and prints the case seed, to
# replay it alone: HOPTHU_FUZZ_REPLAY=0x… cargo test -p CRATE TARGET.
# Debug builds on stable Rust (no nightly, no cargo-fuzz), into CARGO_TARGET_DIR if set.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=60
cases=""
seed=""
filters=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --cases) cases="$2"; seconds=""; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) filters+=("$1"); shift ;;
    esac
done
[ ${#filters[@]} -gt 0 ] || filters=(fuzz_)
[ -z "$seconds" ] || export HOPTHU_FUZZ_SECONDS="$seconds"
[ -z "$cases" ] || export HOPTHU_FUZZ_CASES="$cases"
[ -z "$seed" ] || export HOPTHU_FUZZ_SEED="$seed"
status=0
for filter in "${filters[@]}"; do
    echo "== $filter (seed ${seed:-default}, ${cases:-${seconds}s} per target)"
    set +e
    cargo test --no-fail-fast --lib -p hopthu-smtp -p hopthu-imap -p hopthu-pop3 -p hopthu-core -- \
        --nocapture --test-threads 1 "$filter" 2>&1 \
        | grep -E 'fuzz target|panicked|HOPTHU_FUZZ_REPLAY|^test result: FAILED|^error'
    codes=("${PIPESTATUS[@]}")
    set -e
    [ "${codes[0]}" -eq 0 ] || status=1
done
if [ "$status" -eq 0 ]; then echo "no panic"; else echo "PANICS FOUND (see above)"; fi
exit "$status"
