#!/bin/sh
# Side-by-side IMAP benchmark: hopthu and a private Dovecot (Debian's dovecot-imapd, Maildir)
# on the same machine, filled with the same synthetic mail (hopthu by APPEND, Dovecot by
# writing the same messages into its Maildir, which is much faster), then the same
# first sync by one client (every envelope once, so Dovecot has built its index and cache) and
# mixed load (tools/imap-bench/imap_bench.py) against each, over TLS for both. Prints each
# server's figures, their ratio, and the peak memory of each server during the load
# (proportional set size; hopthu: its one process; Dovecot: every process of the instance).
#
#   sudo tools/imap-bench/dovecot.sh [--messages 100000] [--clients 20] [--seconds 60]
#   sudo tools/imap-bench/dovecot.sh --logins [--clients 20] [--users 20] [--seconds 60] \
#       [--dovecot-scheme plain|argon2id] [--client rust|python] [--dovecot-mode fast|default]
#   sudo tools/imap-bench/dovecot.sh --hopthu-only \
#       --store postgres://postgres@127.0.0.1:5432/hopthu_bench [--messages 100000] ...
#
# --logins runs the login storm instead (short sessions of about seven commands, a LOGIN
# each, on --users accounts, default one per client), from the client of
# crates/imap/examples/imap_storm.rs (build it with `cargo build --release -p hopthu-imap
# --example imap_storm`; one process, a few ms of CPU per session) or, with --client python,
# from imap_bench.py --logins (the same sessions; ~40 ms of CPU per session, so on two cores
# it mostly measures itself): the same accounts on
# both servers, Dovecot's passwords stored in plain text (its fastest set-up) or as the very
# argon2id hashes hopthu stored (--dovecot-scheme argon2id: the same cost on both sides);
# --dovecot-mode fast (the default) runs Dovecot in its high-performance mode (login processes
# serving many connections, mail processes reused, both pre-forked); default is its shipped
# configuration (a new login and a new mail process per connection).
# --hopthu-only leaves Dovecot out (e.g. for 200 clients, or to compare hopthu's back-ends).
# --store URL runs hopthu on that PostgreSQL database (`[store] url`) instead of SQLite in WORK;
# give an empty database to a new WORK directory (the run fills it), the same one to reuse it.
#
# Needs root (Dovecot drops to mail_uid/mail_gid = nobody), python3, openssl and
# dovecot-imapd (not for --hopthu-only without --logins); psql for --store with
# --dovecot-scheme argon2id. HOPTHU_BIN is the hopthu binary (default:
# target/release/hopthu, build it with `cargo build --release -p hopthu`); WORK is the scratch
# directory (default /tmp/hopthu-imap-bench, reused so a second run skips the fill); SEARCH=0
# leaves out the search timings (Dovecot without an FTS plugin takes 15-20 s per body search at
# 100,000 messages); WITHOUT=search leaves SEARCH out of the mixed load too. Ports: HOPTHU_PORT
# (19993) and DOVECOT_PORT (19994) on 127.0.0.1.
set -eu

MESSAGES=100000
CLIENTS=20
SECONDS_=60
LOGINS=0
HOPTHU_ONLY=0
USERS=
SCHEME=plain
STORE=
CLIENT=rust
DOVECOT_MODE=fast
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) MESSAGES=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --seconds) SECONDS_=$2; shift 2 ;;
        --logins) LOGINS=1; shift ;;
        --users) USERS=$2; shift 2 ;;
        --dovecot-scheme) SCHEME=$2; shift 2 ;;
        --hopthu-only) HOPTHU_ONLY=1; shift ;;
        --store) STORE=$2; shift 2 ;;
        --client) CLIENT=$2; shift 2 ;;
        --dovecot-mode) DOVECOT_MODE=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
HOPTHU_BIN=${HOPTHU_BIN:-$ROOT/target/release/hopthu}
STORM_BIN=${STORM_BIN:-$ROOT/target/release/examples/imap_storm}
WORK=${WORK:-/tmp/hopthu-imap-bench}
HOPTHU_PORT=${HOPTHU_PORT:-19993}
DOVECOT_PORT=${DOVECOT_PORT:-19994}
USER_ADDR=bench@caobang.gov.vn
PASSWORD=mat-khau-bench-1
BENCH="python3 $HERE/imap_bench.py --host 127.0.0.1 --user $USER_ADDR --password $PASSWORD --messages $MESSAGES"

[ "$(id -u)" = 0 ] || { echo "run as root (Dovecot needs it)" >&2; exit 1; }
[ -x "$HOPTHU_BIN" ] || { echo "no hopthu binary at $HOPTHU_BIN" >&2; exit 1; }
[ "$HOPTHU_ONLY$LOGINS" = 10 ] || command -v dovecot >/dev/null || {
    echo "dovecot-imapd is not installed" >&2; exit 1; }
mkdir -p "$WORK/hopthu" "$WORK/dovecot/run" "$WORK/dovecot/state" "$WORK/dovecot/mail"

HOPTHU_PID=
DOVECOT_PID=
SAMPLER_PID=
cleanup() {
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
    [ -n "$HOPTHU_PID" ] && kill "$HOPTHU_PID" 2>/dev/null || true
    [ -n "$DOVECOT_PID" ] && kill "$DOVECOT_PID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Memory (kB) of a process and all its descendants: the proportional set size (PSS), so pages
# the Dovecot processes share (mapped index files, libraries) are counted once, not per process.
tree_rss() {
    pids=$1
    all=$1
    while [ -n "$pids" ]; do
        next=
        for p in $pids; do
            for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do next="$next $c"; done
        done
        all="$all $next"
        pids=$(echo $next)
    done
    total=0
    for p in $all; do
        kb=$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null || true)
        total=$((total + ${kb:-0}))
    done
    echo $total
}

# Samples tree_rss of $1 every 0.5 s into $2 (the peak).
sample_peak() {
    echo 0 > "$2"
    while kill -0 "$1" 2>/dev/null; do
        now=$(tree_rss "$1")
        [ "$now" -gt "$(cat "$2")" ] && echo "$now" > "$2"
        sleep 0.5
    done
}

wait_port() {
    i=0
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "port $1 did not open" >&2; exit 1; }
        sleep 0.2
    done
}

# ---- hopthu ------------------------------------------------------------------------------
cat > "$WORK/hopthu/hopthu.toml" <<EOF
domain = "caobang.gov.vn"
hostname = "mail.caobang.gov.vn"
data_dir = "data"
[listen]
imaps = "127.0.0.1:$HOPTHU_PORT"
[limits]
connections_per_ip = 1000
EOF
if [ -n "$STORE" ]; then printf '[store]\nurl = "%s"\n' "$STORE" >> "$WORK/hopthu/hopthu.toml"; fi
USERS=${USERS:-$CLIENTS}
if [ "$LOGINS" = 1 ]; then
    n=1
    while [ $n -le "$USERS" ]; do
        addr="bench$n@caobang.gov.vn"
        [ -f "$WORK/hopthu/user$n" ] || {
            echo "$PASSWORD" | (cd "$WORK/hopthu" && "$HOPTHU_BIN" account add "$addr" --name "Bench $n" --exception benchmark \
                --password-stdin --no-force-change --config hopthu.toml) >/dev/null
            touch "$WORK/hopthu/user$n"
        }
        n=$((n + 1))
    done
elif [ ! -d "$WORK/hopthu/data" ]; then
    echo "$PASSWORD" | (cd "$WORK/hopthu" && "$HOPTHU_BIN" account add "$USER_ADDR" --name Bench --exception benchmark \
        --password-stdin --no-force-change --config hopthu.toml) >/dev/null
fi
(cd "$WORK/hopthu" && RUST_LOG=warn exec "$HOPTHU_BIN" serve --config hopthu.toml) \
    > "$WORK/hopthu/serve.log" 2>&1 &
HOPTHU_PID=$!
wait_port "$HOPTHU_PORT"

if [ "$HOPTHU_ONLY$LOGINS" = 10 ]; then
    # hopthu alone: fill by APPEND (skipped when the folder is full), first sync, search
    # timings and mixed load, as below.
    echo "=== hopthu on $([ -n "$STORE" ] && echo PostgreSQL || echo SQLite) ==="
    $BENCH --port "$HOPTHU_PORT" --skip warm,search,mix
    $BENCH --port "$HOPTHU_PORT" --skip fill,search,mix
    [ "${SEARCH:-1}" = 0 ] || $BENCH --port "$HOPTHU_PORT" --skip fill,warm,mix
    sample_peak "$HOPTHU_PID" "$WORK/hopthu.rss" &
    SAMPLER_PID=$!
    $BENCH --port "$HOPTHU_PORT" --skip fill,warm,search --clients "$CLIENTS" \
        --seconds "$SECONDS_" --without "${WITHOUT:-}" | tee "$WORK/hopthu.mix"
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=
    echo "hopthu: peak memory (PSS) during the load $(($(cat "$WORK/hopthu.rss") / 1024)) MB"
    exit 0
fi

# ---- Dovecot -----------------------------------------------------------------------------
D=$WORK/dovecot
if [ ! -f "$D/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
        -keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null
fi
if [ "$LOGINS" = 1 ] && [ "$SCHEME" = argon2id ]; then
    # The very hashes hopthu stored (PHC strings, which libsodium verifies as they are).
    if [ -n "$STORE" ]; then
        psql "$STORE" -At -c "SELECT address || ':{ARGON2ID}' || password_hash || '::::'
            FROM accounts WHERE address LIKE 'bench%'" > "$D/passwd"
    else
    python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for address, h in db.execute(\"SELECT address, password_hash FROM accounts WHERE address LIKE 'bench%'\"):
    print('%s:{ARGON2ID}%s::::' % (address, h))" "$WORK/hopthu/data/hopthu.db" > "$D/passwd"
    fi
elif [ "$LOGINS" = 1 ]; then
    n=1; : > "$D/passwd"
    while [ $n -le "$USERS" ]; do echo "bench$n@caobang.gov.vn:{PLAIN}$PASSWORD::::" >> "$D/passwd"; n=$((n + 1)); done
else
    echo "$USER_ADDR:{PLAIN}$PASSWORD::::" > "$D/passwd"
fi
chown -R nobody:nogroup "$D/mail"
cat > "$D/dovecot.conf" <<EOF
protocols = imap
listen = 127.0.0.1
base_dir = $D/run
state_dir = $D/state
instance_name = hopthu-bench
log_path = $D/dovecot.log
ssl = required
ssl_cert = <$D/cert.pem
ssl_key = <$D/key.pem
auth_mechanisms = plain
mail_location = maildir:$D/mail/%n
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
mail_max_userip_connections = 1000
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$D/mail/%n
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $DOVECOT_PORT
  }
}
EOF
if [ "$DOVECOT_MODE" = fast ]; then
    # Dovecot's high-performance mode: login processes that serve many connections, started
    # before they are needed, and mail processes reused (100 sessions each), pre-forked too.
    cat >> "$D/dovecot.conf" <<EOF
service imap-login {
  service_count = 0
  process_min_avail = $(nproc)
}
service imap {
  service_count = 100
  process_min_avail = $CLIENTS
}
EOF
fi
if [ "$HOPTHU_ONLY" != 1 ]; then
    dovecot -F -c "$D/dovecot.conf" &
    DOVECOT_PID=$!
    wait_port "$DOVECOT_PORT"
fi

if [ "$LOGINS" = 1 ]; then
    if [ "$CLIENT" = python ]; then
        STORM="python3 $HERE/imap_bench.py --host 127.0.0.1 --user bench@caobang.gov.vn --password $PASSWORD --logins --users $USERS --clients $CLIENTS --seconds $SECONDS_"
    else
        [ -x "$STORM_BIN" ] || { echo "no storm client at $STORM_BIN: cargo build --release -p hopthu-imap --example imap_storm" >&2; exit 1; }
        STORM="$STORM_BIN --host 127.0.0.1 --user bench@caobang.gov.vn --password $PASSWORD --users $USERS --clients $CLIENTS --seconds $SECONDS_"
    fi
    storm() { # name port pid
        echo "=== $1 ==="
        sample_peak "$3" "$WORK/$1.rss" &
        SAMPLER_PID=$!
        $STORM --port "$2" | tee "$WORK/$1.storm"
        kill "$SAMPLER_PID" 2>/dev/null || true
        wait "$SAMPLER_PID" 2>/dev/null || true
        SAMPLER_PID=
        echo "$1: peak memory (PSS) during the storm $(($(cat "$WORK/$1.rss") / 1024)) MB"
    }
    storm hopthu "$HOPTHU_PORT" "$HOPTHU_PID"
    if [ "$HOPTHU_ONLY" = 1 ]; then
        exit 0
    fi
    storm dovecot "$DOVECOT_PORT" "$DOVECOT_PID"
    ops() { sed -n 's/^logins: \([0-9.]*\) operations\/s.*/\1/p' "$WORK/$1.storm"; }
    H=$(ops hopthu); V=$(ops dovecot)
    HM=$(($(cat "$WORK/hopthu.rss") / 1024)); VM=$(($(cat "$WORK/dovecot.rss") / 1024))
    echo
    echo "=== login storm: $CLIENTS clients, $USERS accounts, $SECONDS_ s, Dovecot passwords: $SCHEME ==="
    printf '%-8s %10s %12s\n' server "ops/s" "peak PSS MB"
    printf '%-8s %10s %12s\n' hopthu "$H" "$HM"
    printf '%-8s %10s %12s\n' dovecot "$V" "$VM"
    python3 -c "print('ratio hopthu/dovecot: %.2fx operations/s' % ($H / $V))"
    exit 0
fi

# ---- the same data, the same load --------------------------------------------------------
# hopthu is filled by APPEND (the path mail takes), Dovecot meanwhile from files; then each
# server alone gets the search timings and the mixed load, with its memory sampled.
$BENCH --port "$HOPTHU_PORT" --skip warm,search,mix > "$WORK/hopthu.fill" 2>&1 &
FILL_H=$!
# Dovecot gets the same messages (same generator and seeds) written straight into its Maildir:
# APPEND into Dovecot runs at ~90 messages/s here, and its first SELECT indexes them.
$BENCH --port "$DOVECOT_PORT" --skip warm,search,mix --maildir "$D/mail/bench" > "$WORK/dovecot.fill" 2>&1
chown -R nobody:nogroup "$D/mail"
wait "$FILL_H"
run() { # name port pid
    echo "=== $1 ==="
    cat "$WORK/$1.fill"
    $BENCH --port "$2" --skip fill,search,mix
    [ "${SEARCH:-1}" = 0 ] || $BENCH --port "$2" --skip fill,warm,mix
    sample_peak "$3" "$WORK/$1.rss" &
    SAMPLER_PID=$!
    $BENCH --port "$2" --skip fill,warm,search --clients "$CLIENTS" --seconds "$SECONDS_" \
        --without "${WITHOUT:-}" | tee "$WORK/$1.mix"
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=
    echo "$1: peak memory (PSS) during the load $(($(cat "$WORK/$1.rss") / 1024)) MB"
}
run hopthu "$HOPTHU_PORT" "$HOPTHU_PID"
run dovecot "$DOVECOT_PORT" "$DOVECOT_PID"

ops() { sed -n 's/^mix: \([0-9.]*\) operations\/s.*/\1/p' "$WORK/$1.mix"; }
p() { awk -v op="$2" '$1 == op {print $3 " / " $5}' "$WORK/$1.mix"; }
H=$(ops hopthu); V=$(ops dovecot)
HM=$(($(cat "$WORK/hopthu.rss") / 1024)); VM=$(($(cat "$WORK/dovecot.rss") / 1024))
echo
echo "=== $MESSAGES messages, $CLIENTS clients, $SECONDS_ s ==="
printf '%-8s %10s %18s %10s\n' server "ops/s" "all p50/p99 ms" "peak PSS MB"
printf '%-8s %10s %18s %10s\n' hopthu "$H" "$(p hopthu all)" "$HM"
printf '%-8s %10s %18s %10s\n' dovecot "$V" "$(p dovecot all)" "$VM"
python3 -c "
h, v, hm, vm = $H, $V, $HM, $VM
print('ratio hopthu/dovecot: %s operations/s, %.2fx memory' % (
    '%.2fx' % (h / v) if v > 0 else 'n/a (dovecot completed no operation per second)',
    hm / vm if vm else float('nan')))"
