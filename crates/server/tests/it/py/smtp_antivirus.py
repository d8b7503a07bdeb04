"""Virus scanning at the end of DATA (MX and submission).

Usage: smtp_antivirus.py MODE USER PASSWORD
- MODE infected: clamd is up; a message with the EICAR test file attached is refused with
  554 5.7.0 on the MX port and at submission; a clean message is accepted.
- MODE tempfail: clamd is down, on_error = "tempfail": 451 4.7.0.
- MODE accept: clamd is down, on_error = "accept": accepted, and the message in the INBOX has
  `X-Virus-Scan: unavailable`.
"""

import base64
import smtplib
import sys

from smtp_common import HOST, check, inbox, port, tls_context

mode, user, password = sys.argv[1:4]
# Written in two halves so this file is not itself flagged by a scanner.
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def message(subject, attachment=None):
    head = f"From: {user}\r\nTo: {user}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
    if attachment is None:
        return (head + "\r\nNoi dung sach.\r\n").encode()
    encoded = base64.b64encode(attachment.encode()).decode()
    return (
        head
        + 'Content-Type: multipart/mixed; boundary="ranh-gioi"\r\n\r\n'
        "--ranh-gioi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nXem tep dinh kem.\r\n"
        '--ranh-gioi\r\nContent-Type: application/octet-stream; name="baocao.com"\r\n'
        'Content-Disposition: attachment; filename="baocao.com"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{encoded}\r\n--ranh-gioi--\r\n"
    ).encode()


def mx(subject, attachment=None):
    with smtplib.SMTP(HOST, port("smtp"), timeout=60) as smtp:
        smtp.ehlo("relay.example.org")
        smtp.mail("someone@example.org")
        smtp.rcpt(user)
        return smtp.data(message(subject, attachment))


def submission(subject, attachment=None):
    with smtplib.SMTP(HOST, port("submission"), timeout=60) as smtp:
        smtp.starttls(context=tls_context())
        smtp.login(user, password)
        smtp.mail(user)
        smtp.rcpt(user)
        return smtp.data(message(subject, attachment))


if mode == "infected":
    for name, send in (("MX", mx), ("submission", submission)):
        code, text = send("Co virus", EICAR)
        check(code == 554 and text.startswith(b"5.7.0") and b"Eicar" in text, f"{name}: {code} {text}")
        print(f"{name}: {code} {text.decode()}", flush=True)
    code, text = mx("Sach se")
    check(code == 250, f"clean message: {code} {text}")
    subjects = [m for m in inbox(user, password) if b"Subject: Co virus" in m]
    check(not subjects, "an infected message was stored")
elif mode == "tempfail":
    code, text = mx("Khong quet duoc", EICAR)
    check(code == 451 and text.startswith(b"4.7.0"), f"tempfail: {code} {text}")
    print(f"scanner down: {code} {text.decode()}", flush=True)
elif mode == "accept":
    code, text = mx("Khong quet duoc")
    check(code == 250, f"accept: {code} {text}")
    stored = [m for m in inbox(user, password) if b"Subject: Khong quet duoc" in m]
    check(len(stored) == 1, f"expected the message, got {len(stored)}")
    head = stored[0].split(b"\r\n\r\n", 1)[0]
    check(b"\r\nX-Virus-Scan: unavailable\r\n" in head, f"no X-Virus-Scan header: {head!r}")
    print("scanner down, accepted with X-Virus-Scan: unavailable", flush=True)
print("OK", flush=True)
