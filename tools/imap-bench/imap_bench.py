#!/usr/bin/env python3
"""IMAP load benchmark for hopthu (and, for comparison, any IMAP server such as Dovecot).

1. fill:   appends synthetic Vietnamese mail to a folder until it holds --messages messages
           (several connections in parallel), so every server gets the same data by the same path;
2. search: times body searches (UID SEARCH BODY <word>) over that folder;
   warm:   one client fetches every message's flags and envelope once (first sync);
3. mix:    runs --clients clients for --seconds seconds, each doing a realistic mix of SELECT,
           FETCH envelopes, FETCH a body, STORE flags, SEARCH, APPEND + EXPUNGE, IDLE and NOOP,
           and prints operations per second and latency percentiles per operation.
4. logins: a login storm (`--logins`, instead of the phases above): --clients client processes,
           each signing in as one of --users accounts (USER with its local part numbered:
           bench@d → bench1@d … benchN@d, one password), for short sessions of about seven
           commands: LOGIN, SELECT INBOX, five of FETCH/STORE/EXPUNGE/APPEND at random, LOGOUT,
           each over a new TLS connection; every command counts as one operation. Each INBOX is
           first topped up to --inbox messages. Processes, not threads, so the client is not
           held back by Python's global lock.

Only the standard library is used (imaplib, threads), so the client costs the same for every
server. Example (hopthu on IMAPS port 9993 with a self-signed certificate):

    tools/imap-bench/imap_bench.py --port 9993 --user bench@caobang.gov.vn --password secret \
        --messages 100000 --clients 20 --seconds 60
"""
import argparse
import imaplib
import random
import re
import ssl
import statistics
import threading
import time

GIVEN = ["Đạt", "Hòa", "Hoà", "Lan", "Hùng", "Thảo", "Tuấn", "Ngọc", "Minh", "Phương", "Quân", "Hằng"]
FAMILY = ["Nông", "Bế", "Hoàng", "Nguyễn", "Lục", "Đàm", "Triệu", "Lương", "Mông", "Vi"]
UNITS = ["soyte", "sotnmt", "bandantoc", "baolac", "noivu.baolac", "sogiaoduc", "sotaichinh"]
WORDS = ("báo cáo kế hoạch công văn thông báo giấy mời họp giao ban quyết định tờ trình dự thảo "
         "ngân sách tỉnh huyện xã đơn vị cán bộ công chức viên chức tổng hợp số liệu tháng quý năm "
         "triển khai thực hiện chỉ đạo ủy ban nhân dân sở ban ngành phòng tổ chức hành chính đề nghị "
         "góp ý kiến phê duyệt hồ sơ văn bản đính kèm kính gửi trân trọng cảm ơn khẩn hỏa tốc").split()
SEARCH_WORDS = ["ngan sach", "giao ban", "dat", "hoa", "quyet dinh", "khan", "tong hop so lieu"]


def message(rng, i):
    name = "%s %s %s" % (rng.choice(FAMILY), rng.choice(["Văn", "Thị", "Đức", "Minh"]), rng.choice(GIVEN))
    subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))).capitalize()
    body = "\r\n".join(" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(rng.randint(8, 40)))
    raw = ("From: %s <user%d@%s.caobang.gov.vn>\r\nTo: bench@caobang.gov.vn\r\n"
           "Subject: %s\r\nDate: Mon, 5 Feb 2024 08:%02d:00 +0700\r\nMessage-ID: <%d.%d@bench>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n"
           % (name, i % 997, rng.choice(UNITS), subject, i % 60, i, rng.randint(0, 1 << 30), body))
    return raw.encode()


class Client:
    def __init__(self, args):
        if args.plain:
            self.conn = imaplib.IMAP4(args.host, args.port, timeout=120)
        else:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.conn = imaplib.IMAP4_SSL(args.host, args.port, ssl_context=ctx, timeout=120)
        self.conn.login(args.user, args.password)

    def check(self, result):
        typ, data = result
        if typ != "OK":
            raise RuntimeError("%s %r" % (typ, data))
        return data


def count_messages(args):
    c = Client(args)
    typ, data = c.conn.status(args.folder, "(MESSAGES)")
    if typ != "OK":
        c.check(c.conn.create(args.folder))
        return 0
    return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))


def fill(args):
    have = count_messages(args)
    want = args.messages - have
    if want <= 0:
        print("fill: %s already holds %d messages" % (args.folder, have))
        return
    print("fill: appending %d messages to %s with %d connections" % (want, args.folder, args.fill_clients))
    started = time.monotonic()
    done = [0]
    lock = threading.Lock()

    def worker(k):
        rng = random.Random(k)
        c = Client(args)
        n = want // args.fill_clients + (1 if k < want % args.fill_clients else 0)
        for j in range(n):
            c.check(c.conn.append(args.folder, r"(\Seen)" if rng.random() < 0.7 else None, None,
                                  message(rng, have + k + j * args.fill_clients)))
            with lock:
                done[0] += 1
                if done[0] % 10000 == 0:
                    print("  %d appended, %.0f/s" % (done[0], done[0] / (time.monotonic() - started)))
        c.conn.logout()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.fill_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    print("fill: %d messages in %.1f s (%.0f APPEND/s)" % (want, elapsed, want / elapsed))


def fill_maildir(args):
    """Writes the same messages the IMAP fill appends (same generator, same seeds, same \\Seen
    choices) straight into a Maildir++ folder (`<maildir>/.<folder>/cur`), for a server that
    reads Maildir (Dovecot): far faster than APPEND, and the server indexes them at the first
    SELECT. Only into an empty folder."""
    import os
    cur = os.path.join(args.maildir, "." + args.folder, "cur")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(args.maildir, "." + args.folder, sub), exist_ok=True)
    if os.listdir(cur):
        print("fill: %s is not empty, left as it is" % cur)
        return
    started = time.monotonic()
    n = args.messages
    k_count = args.fill_clients
    stamp = int(time.time())
    written = 0
    for k in range(k_count):
        rng = random.Random(k)
        for j in range(n // k_count + (1 if k < n % k_count else 0)):
            seen = rng.random() < 0.7
            raw = message(rng, k + j * k_count)
            name = "%d.M%dP%d.bench:2,%s" % (stamp, k * 10**7 + j, os.getpid(), "S" if seen else "")
            with open(os.path.join(cur, name), "wb") as f:
                f.write(raw)
            written += 1
    print("fill: %d messages written to %s in %.1f s" % (written, cur, time.monotonic() - started))


def warm(args):
    """One client reads every message's flags and envelope once (what a mail client does on
    first sync), so a server that indexes lazily (Dovecot filled from files) has built its
    index and cache before the timed load. Prints how long it took."""
    c = Client(args)
    started = time.monotonic()
    exists = int(c.check(c.conn.select(args.folder, readonly=True))[0])
    for start in range(1, exists + 1, 5000):
        c.check(c.conn.fetch("%d:%d" % (start, min(exists, start + 4999)), "(UID FLAGS ENVELOPE RFC822.SIZE)"))
    print("warm: FETCH 1:%d (UID FLAGS ENVELOPE RFC822.SIZE) in %.1f s" % (exists, time.monotonic() - started))
    c.conn.logout()


def search_timing(args):
    c = Client(args)
    c.check(c.conn.select(args.folder, readonly=True))
    print("search: UID SEARCH over %s" % args.folder)
    rows = []
    for word in SEARCH_WORDS:
        times = []
        hits = 0
        for _ in range(3):
            t = time.monotonic()
            data = c.check(c.conn.uid("SEARCH", "CHARSET", "UTF-8", "BODY", '"%s"' % word))
            times.append(time.monotonic() - t)
            hits = len(data[0].split())
        rows.append(statistics.median(times))
        print("  BODY %-20s %7d hits  %7.1f ms (median of 3)" % ('"%s"' % word, hits, 1000 * statistics.median(times)))
    for key in ("FROM", "SUBJECT", "TEXT"):
        t = time.monotonic()
        data = c.check(c.conn.uid("SEARCH", "CHARSET", "UTF-8", key, "dat"))
        print("  %-4s %-20s %7d hits  %7.1f ms" % (key, '"dat"', len(data[0].split()), 1000 * (time.monotonic() - t)))
    print("search: median BODY search %.1f ms, worst %.1f ms" % (1000 * statistics.median(rows), 1000 * max(rows)))
    c.conn.logout()


OPS = [  # (name, weight)
    ("select", 5), ("fetch_envelopes", 25), ("fetch_body", 20), ("store_flags", 15),
    ("search", 10), ("append_expunge", 10), ("idle", 5), ("noop", 10),
]


def mix(args):
    stats = {name: [] for name, _ in OPS}
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds
    left_out = set(filter(None, args.without.split(",")))
    names = [n for n, w in OPS for _ in range(w) if n not in left_out]

    def worker(k):
        rng = random.Random(1000 + k)
        c = Client(args)
        conn = c.conn
        data = c.check(conn.select(args.folder))
        exists = int(data[0])
        local = {name: [] for name, _ in OPS}
        while time.monotonic() < deadline:
            op = rng.choice(names)
            t = time.monotonic()
            try:
                if op == "select":
                    exists = int(c.check(conn.select(args.folder))[0])
                elif op == "fetch_envelopes":
                    start = rng.randint(1, max(1, exists - 50))
                    c.check(conn.fetch("%d:%d" % (start, min(exists, start + 49)), "(UID FLAGS ENVELOPE RFC822.SIZE)"))
                elif op == "fetch_body":
                    c.check(conn.fetch(str(rng.randint(1, exists)), "(UID BODY.PEEK[])"))
                elif op == "store_flags":
                    flag = rng.choice([r"\Seen", r"\Flagged", r"\Answered"])
                    c.check(conn.store(str(rng.randint(1, exists)), rng.choice(["+FLAGS", "-FLAGS"]), "(%s)" % flag))
                elif op == "search":
                    word = rng.choice(SEARCH_WORDS)
                    c.check(conn.uid("SEARCH", "CHARSET", "UTF-8", rng.choice(["BODY", "SUBJECT", "FROM", "TEXT"]), '"%s"' % word))
                elif op == "append_expunge":
                    typ, resp = conn.append(args.folder, None, None, message(rng, rng.randint(0, 1 << 20)))
                    if typ != "OK":
                        raise RuntimeError(resp)
                    uid = re.search(rb"APPENDUID \d+ (\d+)", resp[0])
                    if uid:
                        c.check(conn.uid("STORE", uid.group(1), "+FLAGS.SILENT", r"(\Deleted)"))
                        c.check(conn.uid("EXPUNGE", uid.group(1)))
                elif op == "idle":
                    tag = conn._new_tag()
                    conn.send(tag + b" IDLE\r\n")
                    if not conn.readline().startswith(b"+"):
                        raise RuntimeError("IDLE refused")
                    time.sleep(0.05)
                    conn.send(b"DONE\r\n")
                    while True:
                        line = conn.readline()
                        if line.startswith(tag):
                            break
                        if not line:
                            raise RuntimeError("closed")
                else:
                    c.check(conn.noop())
                local[op].append(time.monotonic() - t)
            except Exception as e:  # noqa: BLE001 - a benchmark counts failures and goes on
                with lock:
                    errors[0] += 1
                    if errors[0] <= 5:
                        print("  error in %s: %s" % (op, e))
            # Exists may change under us (other clients expunge); stay inside.
            exists = max(1, exists)
        with lock:
            for name in local:
                stats[name].extend(local[name])
        try:
            conn.logout()
        except Exception:  # noqa: BLE001
            pass

    print("mix: %d clients for %d s on %s" % (args.clients, args.seconds, args.folder))
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    everything = [x for v in stats.values() for x in v]

    def pct(values, p):
        if not values:
            return float("nan")
        values = sorted(values)
        return 1000 * values[min(len(values) - 1, int(p / 100 * len(values)))]

    print("%-16s %8s %8s %8s %8s %8s" % ("operation", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"))
    for name, _ in OPS:
        v = stats[name]
        print("%-16s %8d %8.1f %8.1f %8.1f %8.1f" % (name, len(v), pct(v, 50), pct(v, 90), pct(v, 99), pct(v, 100)))
    print("%-16s %8d %8.1f %8.1f %8.1f %8.1f" % ("all", len(everything), pct(everything, 50), pct(everything, 90),
                                                 pct(everything, 99), pct(everything, 100)))
    print("mix: %.1f operations/s, %d errors" % (len(everything) / elapsed, errors[0]))


LOGIN_OPS = ["connect", "login", "select", "fetch", "store", "expunge", "append", "logout"]


def user_of(args, n):
    local, domain = args.user.split("@", 1)
    return "%s%d@%s" % (local, n, domain)


def connect(args):
    if args.plain:
        return imaplib.IMAP4(args.host, args.port, timeout=120)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return imaplib.IMAP4_SSL(args.host, args.port, ssl_context=ctx, timeout=120)


def fill_inboxes(args):
    """Tops each storm account's INBOX up to --inbox messages (sequentially: parallel sign-ins
    to one account may be throttled)."""
    rng = random.Random(7)
    for n in range(1, args.users + 1):
        conn = connect(args)
        conn.login(user_of(args, n), args.password)
        typ, data = conn.select("INBOX")
        have = int(data[0]) if typ == "OK" else 0
        for i in range(have, args.inbox):
            typ, resp = conn.append("INBOX", None, None, message(rng, n * 1000 + i))
            if typ != "OK":
                raise RuntimeError("APPEND for %s: %r" % (user_of(args, n), resp))
        conn.logout()
    print("logins: %d accounts with %d messages in INBOX" % (args.users, args.inbox))


def storm_worker(args, k, deadline, out):
    rng = random.Random(5000 + k)
    times = {op: [] for op in LOGIN_OPS}
    errors = []
    user = user_of(args, k % args.users + 1)

    def timed(op, f):
        t = time.monotonic()
        typ, data = f()
        times[op].append(time.monotonic() - t)
        if typ not in ("OK", "BYE"):
            raise RuntimeError("%s: %s %r" % (op, typ, data))
        return data

    while time.monotonic() < deadline:
        try:
            t = time.monotonic()
            conn = connect(args)
            times["connect"].append(time.monotonic() - t)
            timed("login", lambda: conn.login(user, args.password))
            exists = int(timed("select", lambda: conn.select("INBOX"))[0])
            for _ in range(5):
                op = rng.choice(["fetch", "fetch", "store", "store", "expunge", "append"])
                if op == "fetch":
                    if exists == 0:
                        continue
                    start = rng.randint(1, exists)
                    timed(op, lambda: conn.fetch("%d:%d" % (start, min(exists, start + 9)),
                                                 "(UID FLAGS ENVELOPE RFC822.SIZE BODY.PEEK[HEADER])"))
                elif op == "store":
                    if exists == 0:
                        continue
                    flag = "\\Deleted" if rng.random() < 0.2 else rng.choice(["\\Seen", "\\Flagged"])
                    timed(op, lambda: conn.store(str(rng.randint(1, exists)), rng.choice(["+FLAGS", "-FLAGS"]),
                                                 "(%s)" % flag))
                elif op == "expunge":
                    gone = timed(op, conn.expunge)
                    exists -= len([n for n in gone if n])
                    exists = int(timed("select", lambda: conn.select("INBOX"))[0]) if rng.random() < 0.3 else exists
                else:
                    timed(op, lambda: conn.append("INBOX", None, None, message(rng, rng.randint(0, 1 << 20))))
                    exists += 1
                if exists < args.inbox // 2:  # keep the mailbox from emptying out
                    timed("append", lambda: conn.append("INBOX", None, None, message(rng, rng.randint(0, 1 << 20))))
                    exists += 1
            timed("logout", conn.logout)
        except Exception as e:  # noqa: BLE001 - a benchmark counts failures and goes on
            errors.append("%s: %s" % (user, e))
            try:
                conn.shutdown()
            except Exception:  # noqa: BLE001
                pass
    out.put((times, errors))


def logins(args):
    import multiprocessing
    fill_inboxes(args)
    print("logins: %d clients on %d accounts for %d s, ~7 commands per session" % (args.clients, args.users, args.seconds))
    out = multiprocessing.Queue()
    started = time.monotonic()
    deadline = started + args.seconds
    procs = [multiprocessing.Process(target=storm_worker, args=(args, k, deadline, out)) for k in range(args.clients)]
    for p in procs:
        p.start()
    results = [out.get(timeout=args.seconds + 300) for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.monotonic() - started
    stats = {op: [x for times, _ in results for x in times[op]] for op in LOGIN_OPS}
    errors = [e for _, errs in results for e in errs]
    for e in errors[:5]:
        print("  error: %s" % e)

    def pct(values, p):
        if not values:
            return float("nan")
        values = sorted(values)
        return 1000 * values[min(len(values) - 1, int(p / 100 * len(values)))]

    commands = [x for op, v in stats.items() if op != "connect" for x in v]
    print("%-16s %8s %8s %8s %8s %8s" % ("operation", "count", "mean ms", "p50 ms", "p90 ms", "p99 ms"))
    for op in LOGIN_OPS:
        v = stats[op]
        mean = 1000 * sum(v) / len(v) if v else float("nan")
        print("%-16s %8d %8.1f %8.1f %8.1f %8.1f" % (op, len(v), mean, pct(v, 50), pct(v, 90), pct(v, 99)))
    print("logins: %.1f operations/s (commands, TLS connects not counted), %.1f logins/s, %d errors"
          % (len(commands) / elapsed, len(stats["login"]) / elapsed, len(errors)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=993)
    p.add_argument("--plain", action="store_true", help="no TLS (a server that allows it)")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--folder", default="Bench")
    p.add_argument("--messages", type=int, default=10000)
    p.add_argument("--fill-clients", type=int, default=8)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--maildir", help="fill by writing Maildir files here (a Maildir++ root) "
                                      "instead of APPEND; the other phases still use IMAP")
    p.add_argument("--without", default="", help="comma-separated mix operations to leave out, "
                                                   "e.g. search")
    p.add_argument("--skip", default="", help="comma-separated phases to skip: fill,warm,search,mix")
    p.add_argument("--logins", action="store_true", help="run the login storm (short sessions) instead")
    p.add_argument("--users", type=int, default=20, help="accounts of the login storm")
    p.add_argument("--inbox", type=int, default=50, help="messages in each storm account's INBOX")
    args = p.parse_args()
    if args.logins:
        logins(args)
        return
    skip = set(args.skip.split(","))
    if "fill" not in skip:
        if args.maildir:
            fill_maildir(args)
        else:
            fill(args)
    if "warm" not in skip:
        warm(args)
    if "search" not in skip:
        search_timing(args)
    if "mix" not in skip:
        mix(args)


if __name__ == "__main__":
    main()
