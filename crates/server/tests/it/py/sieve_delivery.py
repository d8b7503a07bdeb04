"""Mail through an active Sieve script: B sends to A over submission; A's script (uploaded over
ManageSieve or written by the webmail) files, flags or replies. Reads the effect over IMAPS.

Usage:
  sieve_delivery.py mkfolder ADDRESS PASSWORD FOLDER
  sieve_delivery.py send FROM PASSWORD TO SUBJECT
  sieve_delivery.py count ADDRESS PASSWORD FOLDER SUBJECT_PART EXPECTED [FLAG]
      waits (up to 60 s) until FOLDER holds EXPECTED messages whose subject contains
      SUBJECT_PART (and have FLAG, e.g. \\Flagged), then checks it stays so for 3 s.
  sieve_delivery.py reply ADDRESS PASSWORD SUBJECT_PART
      prints the headers of the one message whose subject contains SUBJECT_PART.
"""

import email
import email.header
import email.message
import email.policy
import imaplib
import os
import smtplib
import ssl
import sys
import time

HOST = os.environ["HOPTHU_HOST"]


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)


def context():
    c = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
    c.check_hostname = False
    return c


def imap(address, password):
    conn = imaplib.IMAP4_SSL(HOST, int(os.environ["HOPTHU_IMAPS_PORT"]),
                             ssl_context=context(), timeout=30)
    conn.login(address, password)
    return conn


def subjects(address, password, folder, flag=None):
    conn = imap(address, password)
    try:
        typ, _ = conn.select(f'"{folder}"', readonly=True)
        check(typ == "OK", f"SELECT {folder}: {typ}")
        typ, data = conn.uid("SEARCH", None, flag[1:].upper() if flag else "ALL")
        uids = data[0].split() if data and data[0] else []
        out = []
        for uid in uids:
            typ, data = conn.uid("FETCH", uid.decode(), "(BODY.PEEK[HEADER])")
            raw = [item[1] for item in data if isinstance(item, tuple)][0]
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            out.append((str(msg["Subject"]), msg))
        return out
    finally:
        conn.logout()


def main():
    op = sys.argv[1]
    if op == "mkfolder":
        conn = imap(sys.argv[2], sys.argv[3])
        typ, data = conn.create(f'"{sys.argv[4]}"')
        check(typ == "OK", f"CREATE: {typ} {data}")
        conn.logout()
    elif op == "send":
        sender, password, to, subject = sys.argv[2:6]
        msg = email.message.EmailMessage()
        msg["From"] = sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content("Kính gửi anh/chị,\n\nNội dung thư.\n")
        with smtplib.SMTP_SSL(HOST, int(os.environ["HOPTHU_SUBMISSIONS_PORT"]),
                              context=context(), timeout=30) as s:
            s.login(sender, password)
            s.send_message(msg)
    elif op == "count":
        address, password, folder, part, expected = sys.argv[2:7]
        flag = sys.argv[7] if len(sys.argv) > 7 else None
        expected = int(expected)
        deadline = time.time() + 60
        while True:
            got = [s for s, _ in subjects(address, password, folder, flag) if part in s]
            if len(got) >= expected or time.time() > deadline:
                break
            time.sleep(0.5)
        time.sleep(3)
        got = [s for s, _ in subjects(address, password, folder, flag) if part in s]
        check(len(got) == expected, f"{folder}: expected {expected} × {part!r}, got {got}")
    elif op == "reply":
        address, password, part = sys.argv[2:5]
        got = [m for s, m in subjects(address, password, "INBOX") if part in s]
        check(len(got) == 1, f"expected one reply {part!r}, got {len(got)}")
        for k, v in got[0].items():
            print(f"{k}: {v}")
    else:
        check(False, f"unknown op {op}")
    print("OK")


main()
