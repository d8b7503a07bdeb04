"""Two nodes on one database and one blob store (tests/it/nodes.rs). The environment is node
B's; node A's ports and certificate come as arguments.

  nodes.py idle USER PASSWORD A_SMTP_PORT
      IDLE on B's INBOX; mail sent through A's SMTP listener must wake it within seconds; then
      prints the SHA-256 of the message as B serves it (BODY.PEEK[]).
  nodes.py digest USER PASSWORD
      prints the SHA-256 of INBOX message 1 as this node serves it.
  nodes.py append USER PASSWORD A_IMAPS_PORT A_CERT CLIENTS EACH
      CLIENTS sessions on each node APPEND EACH messages at once; every APPENDUID must be
      unique, and the mailbox must list them all in increasing UID order. Prints "OK N".
  nodes.py lockout USER PASSWORD A_IMAPS_PORT A_CERT FAILURES
      FAILURES wrong passwords on A (each refused as wrong, not throttled), then the right one
      on B must be throttled (NO [UNAVAILABLE]): the failures are counted for every node.
      Prints "LOCKED".
"""
import hashlib
import imaplib
import os
import re
import smtplib
import ssl
import sys
import threading
import time

from imap_common import idle_done, idle_start, imaps, ok, read_until

mode, user, password = sys.argv[1], sys.argv[2], sys.argv[3]


def digest(conn, n=b"1"):
    data = ok(conn.fetch(n, "(BODY.PEEK[])"))
    return hashlib.sha256(data[0][1]).hexdigest()


if mode == "idle":
    a_smtp = int(sys.argv[4])
    b = imaps(user, password)
    ok(b.select("INBOX"))
    tag = idle_start(b)
    started = time.monotonic()
    with smtplib.SMTP(os.environ["HOPTHU_HOST"], a_smtp, timeout=20) as smtp:
        smtp.ehlo("client.example.org")
        smtp.sendmail("someone@example.org", [user],
                      b"From: someone@example.org\r\nTo: " + user.encode() +
                      b"\r\nSubject: qua node A\r\n\r\nXin chao tu node A.\r\n")
    read_until(b, lambda l: l == b"* 1 EXISTS\r\n")
    woke = time.monotonic() - started
    # Woken by the other node's notification, not by a periodic re-read.
    assert woke < 10, woke
    idle_done(b, tag)
    print(digest(b))
    b.logout()
elif mode == "digest":
    c = imaps(user, password)
    ok(c.select("INBOX"))
    print(digest(c))
    c.logout()
elif mode == "append":
    a_port, a_cert = int(sys.argv[4]), sys.argv[5]
    clients, each = int(sys.argv[6]), int(sys.argv[7])

    def connect_a():
        ctx = ssl.create_default_context(cafile=a_cert)
        ctx.check_hostname = False
        conn = imaplib.IMAP4_SSL(os.environ["HOPTHU_HOST"], a_port, ssl_context=ctx, timeout=60)
        ok(conn.login(user, password))
        return conn

    uids, errors, lock, login_lock = [], [], threading.Lock(), threading.Lock()
    start = threading.Barrier(2 * clients)

    def worker(node, i):
        try:
            # Sign-ins one after the other: parallel sign-ins to one account count as
            # guesses (each is counted before its check), and that is not what is tested.
            with login_lock:
                conn = connect_a() if node == "a" else imaps(user, password)
            start.wait(timeout=60)
            for k in range(each):
                body = f"Subject: {node}{i}-{k}\r\n\r\nnode {node} client {i} message {k}\r\n"
                typ, data = conn.append("INBOX", None, None, body.encode())
                assert typ == "OK", (typ, data)
                m = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
                assert m, data
                with lock:
                    uids.append(int(m.group(2)))
            conn.logout()
        except Exception as e:  # reported below, with the others
            start.abort()
            with lock:
                errors.append(f"{node}{i}: {e!r}")

    threads = [threading.Thread(target=worker, args=(node, i))
               for node in ("a", "b") for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    total = 2 * clients * each
    assert len(uids) == total and len(set(uids)) == total, (len(uids), len(set(uids)))
    c = imaps(user, password)
    ok(c.select("INBOX"))
    listed = []
    for item in ok(c.fetch(b"1:*", "(UID)")):
        listed.append(int(re.search(rb"UID (\d+)", item).group(1)))
    assert listed == sorted(uids), (listed, sorted(uids))
    assert all(x < y for x, y in zip(listed, listed[1:])), listed
    c.logout()
    print(f"OK {total}")
elif mode == "lockout":
    a_port, a_cert, failures = int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    ctx = ssl.create_default_context(cafile=a_cert)
    ctx.check_hostname = False
    for i in range(failures):
        a = imaplib.IMAP4_SSL(os.environ["HOPTHU_HOST"], a_port, ssl_context=ctx, timeout=30)
        try:
            a.login(user, password + "-sai-%d" % i)
            raise SystemExit("node A accepted a wrong password")
        except imaplib.IMAP4.error as e:
            assert "AUTHENTICATIONFAILED" in str(e), e
        a.logout()
    ctx_b = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
    ctx_b.check_hostname = False
    b = imaplib.IMAP4_SSL(os.environ["HOPTHU_HOST"], int(os.environ["HOPTHU_IMAPS_PORT"]),
                          ssl_context=ctx_b, timeout=30)
    try:
        b.login(user, password)
        raise SystemExit("node B let the right password in from a source locked out on A")
    except imaplib.IMAP4.error as e:
        assert "UNAVAILABLE" in str(e), e
    b.logout()
    print("LOCKED")
else:
    sys.exit(f"unknown mode {mode}")
