"""RFC 5322 §3.6 on submission: a message with two From: fields (the first another person's,
the last the sender's own, or the other way round), two Sender:/Subject:/Reply-To: fields, a
header line without a name, or a header line ended by a bare CR is refused at the end of DATA
(550 5.6.0, or 554 5.6.11 for the bare CR) and nothing is delivered; a clean message is.

Usage: smtp_duplicate_from.py LOGIN PASSWORD OTHER RCPT RCPT_PASSWORD
Prints "OK" or "FAILED: ..." (exit 1).
"""

import smtplib
import sys

from smtp_common import HOST, check, inbox, port, tls_context

login, password, other, rcpt, rcpt_password = sys.argv[1:6]

TAIL = f"To: {rcpt}\r\nDate: Fri, 28 Nov 2025 10:00:00 +0700\r\n"
REFUSED = [
    (f"From: {other}\r\nFrom: {login}\r\n", "550 5.6.0"),
    (f"From: {login}\r\nFrom: {other}\r\n", "550 5.6.0"),
    (f"From : {other}\r\nFrom: {login}\r\n", "550 5.6.0"),
    (f"FROM: {other}\r\nX-Note: a\r\n b\r\nfrom: {login}\r\n", "550 5.6.0"),
    (f"From: {login}\r\nSender: {login}\r\nSender: {other}\r\n", "550 5.6.0"),
    (f"From: {login}\r\nReply-To: {login}\r\nReply-To: {other}\r\n", "550 5.6.0"),
    (f"From: {login}\r\nSubject: a\r\nSubject: b\r\n", "550 5.6.0"),
    (f"From: {login}\r\nMessage-ID: <a@b>\r\nMessage-ID: <c@d>\r\n", "550 5.6.0"),
    (f"From: {login}\r\nno name on this line\r\n", "550 5.6.0"),
    (f"From: {login}\r\nX-A: b\rFrom: {other}\r\n", "554 5.6.11"),
]

with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
    smtp.login(login, password)
    for i, (header, want) in enumerate(REFUSED):
        code, text = smtp.mail(login)
        check(code == 250, f"MAIL {code} {text}")
        code, text = smtp.rcpt(rcpt)
        check(code == 250, f"RCPT {code} {text}")
        message = (header + TAIL + f"Subject-Id: {i}\r\n\r\nDUPLICATE {i}\r\n").encode()
        # smtplib's data() would not let a bare CR through unchanged: send the bytes raw.
        code, text = smtp.docmd("DATA")
        check(code == 354, f"DATA {code} {text}")
        smtp.send(message + b".\r\n")
        code, text = smtp.getreply()
        got = f"{code} {text.decode(errors='replace')}"
        check(got.startswith(want), f"case {i} {header!r}: {got}")
    code, text = smtp.mail(login)
    check(code == 250, f"MAIL {code} {text}")
    code, text = smtp.rcpt(rcpt)
    check(code == 250, f"RCPT {code} {text}")
    code, text = smtp.data(f"From: {login}\r\n{TAIL}Subject: clean\r\n\r\nclean\r\n".encode())
    check(code == 250, f"clean message: {code} {text}")

messages = inbox(rcpt, rcpt_password)
check(len(messages) == 1, f"{len(messages)} messages delivered")
check(b"Subject: clean" in messages[0], repr(messages[0]))
print("OK")
