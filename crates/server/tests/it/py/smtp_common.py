"""Shared helpers of the SMTP test scripts (imported by the other smtp_*.py scripts).

Ports and the server certificate come from the environment set by the Rust harness
(HOPTHU_HOST, HOPTHU_<LISTENER>_PORT, HOPTHU_CERT, HOPTHU_DOMAIN). Mail is read back over IMAPS,
so a test sees exactly what a mail client would see.
"""

import imaplib
import os
import re
import ssl
import sys

HOST = os.environ["HOPTHU_HOST"]
DOMAIN = os.environ.get("HOPTHU_DOMAIN", "caobang.gov.vn")


def port(listener):
    return int(os.environ[f"HOPTHU_{listener.upper()}_PORT"])


def tls_context():
    """Trusts the server's self-signed certificate; its names do not include 127.0.0.1."""
    context = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
    context.check_hostname = False
    return context


def check(condition, message):
    """Fails the script with a message (asserts vanish under python -O)."""
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)


def inbox(address, password):
    """Every message of the account's INBOX as raw bytes, in UID order, read over IMAPS."""
    imap = imaplib.IMAP4_SSL(HOST, port("imaps"), ssl_context=tls_context(), timeout=60)
    try:
        imap.login(address, password)
        typ, _ = imap.select("INBOX", readonly=True)
        check(typ == "OK", f"SELECT INBOX: {typ}")
        typ, data = imap.uid("SEARCH", None, "ALL")
        check(typ == "OK", f"UID SEARCH: {typ} {data}")
        uids = data[0].split() if data and data[0] else []
        messages = []
        for uid in uids:
            typ, data = imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            check(typ == "OK", f"UID FETCH {uid}: {typ} {data}")
            parts = [item[1] for item in data if isinstance(item, tuple)]
            check(len(parts) == 1, f"UID FETCH {uid}: expected one literal, got {data!r}")
            messages.append(parts[0])
        return messages
    finally:
        try:
            imap.logout()
        except Exception:
            pass


def split_received(raw):
    """Splits off the first header field (our Received:) with its continuation lines."""
    check(raw.startswith(b"Received: "), f"message does not start with Received: {raw[:80]!r}")
    end = 0
    while True:
        end = raw.index(b"\r\n", end) + 2
        if raw[end:end + 1] not in (b" ", b"\t"):
            return raw[:end], raw[end:]


def reply_ok(reply, code, status=None):
    """`reply` is smtplib's (code, text) pair."""
    got_code, text = reply
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    ok = got_code == code and (status is None or text.startswith(status))
    check(ok, f"expected {code} {status or ''}, got {got_code} {text}")


TOKEN = re.compile(rb"durability (t\d+-\d+)")


def split_signatures(raw):
    """Splits off the DKIM-Signature: fields (with continuation lines) at the start of raw:
    submitted mail is signed before it is stored (Đ14.2). Returns (count, rest)."""
    count = 0
    while raw.startswith(b"DKIM-Signature: "):
        end = 0
        while True:
            end = raw.index(b"\r\n", end) + 2
            if raw[end:end + 1] not in (b" ", b"\t"):
                break
        raw = raw[end:]
        count += 1
    return count, raw
