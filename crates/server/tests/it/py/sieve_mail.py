"""Mail for the Sieve tests: sends a raw message through the MX port, or lists a folder's
messages (flags and raw text) as JSON, read over IMAPS.

Usage: sieve_mail.py send MAIL_FROM RCPT[,RCPT...] FILE     (MAIL_FROM "" is the null sender <>)
       sieve_mail.py submit LOGIN PASSWORD RCPT[,RCPT...] FILE   (signed in, port 587)
       sieve_mail.py folder LOGIN PASSWORD FOLDER
       sieve_mail.py create LOGIN PASSWORD FOLDER...
"""

import base64
import imaplib
import json
import re
import smtplib
import sys

from smtp_common import HOST, check, port, tls_context



def mutf7(name):
    """A folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3), quoted."""
    out, run = [], []

    def flush():
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).decode()
            out.append("&" + b64.rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return '"' + "".join(out) + '"'


def login(address, password):
    imap = imaplib.IMAP4_SSL(HOST, port("imaps"), ssl_context=tls_context(), timeout=60)
    imap.login(address, password)
    return imap


command = sys.argv[1]
if command == "send":
    mail_from, rcpts, path = sys.argv[2:5]
    with open(path, "rb") as f:
        raw = f.read()
    with smtplib.SMTP(HOST, port("smtp"), timeout=60) as smtp:
        smtp.ehlo("client.example.org")
        refused = smtp.sendmail(mail_from, rcpts.split(","), raw)
        check(not refused, f"refused: {refused}")
    print("SENT")
elif command == "submit":
    address, password, rcpts, path = sys.argv[2:6]
    with open(path, "rb") as f:
        raw = f.read()
    with smtplib.SMTP(HOST, port("submission"), timeout=60) as smtp:
        smtp.starttls(context=tls_context())
        smtp.login(address, password)
        refused = smtp.sendmail(address, rcpts.split(","), raw)
        check(not refused, f"refused: {refused}")
    print("SENT")
elif command == "folder":
    address, password, folder = sys.argv[2:5]
    imap = login(address, password)
    typ, data = imap.select(mutf7(folder), readonly=True)
    out = []
    if typ == "OK":
        typ, data = imap.uid("SEARCH", None, "ALL")
        check(typ == "OK", f"UID SEARCH: {typ} {data}")
        for uid in data[0].split() if data and data[0] else []:
            typ, data = imap.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[])")
            check(typ == "OK", f"UID FETCH {uid}: {typ} {data}")
            head = b" ".join(item[0] for item in data if isinstance(item, tuple))
            flags = re.search(rb"FLAGS \(([^)]*)\)", head + b" ".join(
                item for item in data if isinstance(item, bytes)))
            raw = [item[1] for item in data if isinstance(item, tuple)][0]
            out.append({
                "flags": flags.group(1).decode() if flags else "",
                "raw": raw.decode("utf-8", "replace"),
            })
    else:
        out = None
    imap.logout()
    print(json.dumps(out))
elif command == "create":
    address, password = sys.argv[2:4]
    imap = login(address, password)
    for name in sys.argv[4:]:
        typ, data = imap.create(mutf7(name))
        check(typ == "OK", f"CREATE {name}: {typ} {data}")
    imap.logout()
    print("CREATED")
else:
    check(False, f"unknown command {command}")
