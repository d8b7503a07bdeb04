#!/usr/bin/env bash
# Inbound SMTP side by side: hopthu against Postfix delivering into Dovecot by LMTP, on this
# machine, with the same load (tools/smtp-bench/smtp_bench.py) and the same durability (fsync
# before every acknowledgement: Postfix fsyncs its queue file before "250", Dovecot fsyncs each
# Maildir file before its LMTP "250" with its default `mail_fsync = optimized`; hopthu fsyncs
# the blob and commits the SQLite WAL with synchronous=FULL before "250").
#
# Both are private instances under a temporary folder on free loopback ports; nothing of the
# system's own Postfix or Dovecot is used or changed. Needs root (Postfix's master and Dovecot
# start as root and drop privileges), the Debian packages postfix and dovecot-lmtpd, and a
# release build of hopthu. Creates the unprivileged user `vmail` (Dovecot's mail owner) when
# missing.
#
# Usage: tools/smtp-bench/compare.sh [--sessions N] [--messages M] [--size BYTES]
#            [--recipients R] [--hopthu PATH] [--keep]
#            [--store postgres://...] [--extra FILE] [--hopthu-only]
# --store runs hopthu on that (empty) PostgreSQL database instead of SQLite; --extra appends
# FILE to hopthu's configuration (e.g. a [blobs] table for an S3 bucket); --hopthu-only skips
# Postfix and Dovecot (to compare hopthu's back-ends with each other).
# Prints, for each system, the benchmark's output (acknowledged messages per second and ack
# latency), checks that every message reached a mailbox, and prints the ratio.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bench="$here/smtp_bench.py"
sessions=20
messages=50
size=4096
recipients=10
keep=no
store=""
extra=""
hopthu_only=no
hopthu="${HOPTHU:-${CARGO_TARGET_DIR:-$here/../../target}/release/hopthu}"
while [ $# -gt 0 ]; do
  case "$1" in
    --sessions) sessions="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --recipients) recipients="$2"; shift 2 ;;
    --hopthu) hopthu="$2"; shift 2 ;;
    --keep) keep=yes; shift ;;
    --store) store="$2"; shift 2 ;;
    --extra) extra="$2"; shift 2 ;;
    --hopthu-only) hopthu_only=yes; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
total=$((sessions * messages))

die() { echo "compare.sh: $*" >&2; exit 1; }
if [ "$hopthu_only" = no ]; then
  [ "$(id -u)" = 0 ] || die "run as root (private Postfix and Dovecot instances)"
  [ -x /usr/sbin/postfix ] || die "postfix is not installed (Debian package postfix)"
  [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/lmtp ] || die "Dovecot LMTP is not installed (dovecot-lmtpd)"
fi
[ -x "$hopthu" ] || die "no hopthu binary at $hopthu (cargo build --release -p hopthu, or --hopthu PATH)"
hopthu="$(cd "$(dirname "$hopthu")" && pwd)/$(basename "$hopthu")"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Waits (at most 30 s) until something listens on a loopback port.
wait_port() {
  python3 - "$1" <<'EOF' || die "nothing listens on port $1"
import socket, sys, time
deadline = time.time() + 30
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}
rcpt_list() {
  local out="" i
  for i in $(seq "$recipients"); do out="$out${out:+,}bench$i@caobang.gov.vn"; done
  echo "$out"
}
rcpts="$(rcpt_list)"

work="$(mktemp -d /tmp/smtp-compare.XXXXXX)"
chmod 0755 "$work"
pf="$work/postfix" dc="$work/dovecot" ht="$work/hopthu"
hopthu_pid=""
cleanup() {
  [ -n "$hopthu_pid" ] && kill "$hopthu_pid" 2>/dev/null && wait "$hopthu_pid" 2>/dev/null
  [ -f "$pf/main.cf" ] && /usr/sbin/postfix -c "$pf" stop >/dev/null 2>&1
  [ -f "$dc/run/master.pid" ] && kill "$(cat "$dc/run/master.pid")" 2>/dev/null
  if [ "$keep" = yes ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

rate() { sed -n 's/^throughput: \([0-9.]*\) messages\/s/\1/p' "$1"; }
p99() { sed -n 's/^ack latency: .*p99 \([0-9.]*\) ms.*/\1/p' "$1"; }

if [ "$hopthu_only" = no ]; then
# ---- Dovecot: LMTP only, Maildir per user, passwd-file userdb owned by vmail ---------------
id -u vmail >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vmail
vuid="$(id -u vmail)" vgid="$(id -g vmail)"
lmtp_port="$(free_port)"
mkdir -p "$dc/mail" "$dc/run" "$dc/state"
chown vmail:vmail "$dc/mail"
: > "$dc/users"
for i in $(seq "$recipients"); do
  echo "bench$i@caobang.gov.vn::$vuid:$vgid::$dc/mail/bench$i::" >> "$dc/users"
done
cat > "$dc/dovecot.conf" <<EOF
protocols = lmtp
listen = 127.0.0.1
base_dir = $dc/run
state_dir = $dc/state
log_path = $dc/dovecot.log
ssl = no
first_valid_uid = $vuid
last_valid_uid = $vuid
mail_location = maildir:~/Maildir
# The default, spelled out: fsync each delivered file before LMTP answers 250.
mail_fsync = optimized
passdb {
  driver = passwd-file
  args = $dc/users
}
userdb {
  driver = passwd-file
  args = $dc/users
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp_port
  }
}
EOF
/usr/sbin/dovecot -c "$dc/dovecot.conf" || die "dovecot did not start (see $dc/dovecot.log)"
wait_port "$lmtp_port"

# ---- Postfix: accepts caobang.gov.vn on a high port, relays it by LMTP to Dovecot ----------
pf_port="$(free_port)"
mkdir -p "$pf/queue" "$pf/data"
chown postfix:postfix "$pf/data"
cat > "$pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
virtual_mailbox_domains = caobang.gov.vn
virtual_mailbox_maps = static:ok
virtual_transport = lmtp:inet:127.0.0.1:$lmtp_port
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
EOF
cat > "$pf/master.cf" <<EOF
127.0.0.1:$pf_port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
/usr/sbin/postfix -c "$pf" start >/dev/null 2>&1 || die "postfix did not start (see $pf/maillog)"
wait_port "$pf_port"

maildir_count() {
  find "$dc/mail" -path '*/Maildir/new/*' -type f 2>/dev/null | wc -l
}

summary() { grep -E '^(throughput|ack latency)' "$1"; }

echo "== Postfix $(postconf -h mail_version) -> Dovecot $(/usr/sbin/dovecot --version | cut -d' ' -f1) (LMTP, Maildir)"
start_ns="$(date +%s%N)"
python3 "$bench" --port "$pf_port" --sessions "$sessions" --messages "$messages" --size "$size" \
  --rcpt "$rcpts" | tee "$work/postfix.out"
# Postfix acknowledges when the message is in its queue; the pipeline is done when Dovecot has
# written every message. Wait (bounded) for the last one.
deadline=$(( $(date +%s) + 300 ))
while [ "$(maildir_count)" -lt "$total" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
end_ns="$(date +%s%N)"
delivered="$(maildir_count)"
pipeline="$(python3 -c "print(f'{$delivered / (($end_ns - $start_ns) / 1e9):.1f}')")"
echo "delivered into Maildir: $delivered of $total (end to end: $pipeline messages/s)"
[ "$delivered" -eq "$total" ] || die "the Postfix -> Dovecot pipeline did not deliver everything (see $pf/maillog, $dc/dovecot.log)"

fi

# ---- hopthu -------------------------------------------------------------------------------
mkdir -p "$ht"
smtp_port="$(free_port)" imaps_port="$(free_port)"
cat > "$ht/hopthu.toml" <<EOF
domain = "caobang.gov.vn"
hostname = "mail.caobang.gov.vn"
data_dir = "data"
[listen]
smtp = "127.0.0.1:$smtp_port"
imaps = "127.0.0.1:$imaps_port"
[limits]
connections_per_ip = 10000
[inbound]
verify = false
[log]
level = "warn"
EOF
if [ -n "$store" ]; then printf '[store]\nurl = "%s"\n' "$store" >> "$ht/hopthu.toml"; fi
if [ -n "$extra" ]; then cat "$extra" >> "$ht/hopthu.toml"; fi
for i in $(seq "$recipients"); do
  echo mat-khau-bench-1 | "$hopthu" account add "bench$i@caobang.gov.vn" --name "Bench $i" --exception benchmark \
    --password-stdin --no-force-change --config "$ht/hopthu.toml" >/dev/null
done
"$hopthu" serve --config "$ht/hopthu.toml" > "$ht/serve.log" 2>&1 &
hopthu_pid=$!
wait_port "$smtp_port"
wait_port "$imaps_port"

echo "== hopthu $("$hopthu" --version 2>/dev/null | cut -d' ' -f2)"
python3 "$bench" --port "$smtp_port" --sessions "$sessions" --messages "$messages" --size "$size" \
  --rcpt "$rcpts" | tee "$work/hopthu.out"
# hopthu acknowledges only once the message is in the mailbox: count them over IMAP.
stored="$(python3 - "$imaps_port" "$recipients" <<'EOF'
import imaplib, ssl, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
total = 0
for i in range(1, n + 1):
    c = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx)
    c.login(f"bench{i}@caobang.gov.vn", "mat-khau-bench-1")
    typ, data = c.status("INBOX", "(MESSAGES)")
    total += int(data[0].decode().split("MESSAGES")[1].strip(" )"))
    c.logout()
print(total)
EOF
)"
echo "stored in INBOXes: $stored of $total"
[ "$stored" -eq "$total" ] || die "hopthu did not store everything (see $ht/serve.log)"

# ---- figures ------------------------------------------------------------------------------
echo
echo "== $sessions sessions x $messages messages, ~$size B, $recipients mailboxes, hopthu on $([ -n "$store" ] && echo PostgreSQL || echo SQLite)${extra:+ with $extra}"
if [ "$hopthu_only" = yes ]; then
  printf '%-28s %12s %12s\n' "" "messages/s" "p99 ack ms"
  printf '%-28s %12s %12s\n' "hopthu (ack = stored)" "$(rate "$work/hopthu.out")" "$(p99 "$work/hopthu.out")"
  exit 0
fi
printf '%-28s %12s %12s\n' "" "messages/s" "p99 ack ms"
printf '%-28s %12s %12s\n' "Postfix -> Dovecot (ack)" "$(rate "$work/postfix.out")" "$(p99 "$work/postfix.out")"
printf '%-28s %12s %12s\n' "Postfix -> Dovecot (stored)" "$pipeline" "-"
printf '%-28s %12s %12s\n' "hopthu (ack = stored)" "$(rate "$work/hopthu.out")" "$(p99 "$work/hopthu.out")"
python3 -c "
h, p, e = $(rate "$work/hopthu.out"), $(rate "$work/postfix.out"), $pipeline
print(f'ratio hopthu / Postfix ack: {h / p:.2f}   hopthu / Postfix->Dovecot stored: {h / e:.2f}')"
