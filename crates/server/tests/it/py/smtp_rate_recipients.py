"""`[limits] messages_per_hour` counts recipients (run with messages_per_hour = 3): one message
to two recipients leaves room for one more recipient, so the next message gets its first RCPT
and 452 4.7.1 at the second; after that message, MAIL itself gets 451 4.7.1.

Usage: smtp_rate_recipients.py LOGIN PASSWORD RCPT1 RCPT2
Prints "OK" or "FAILED: ..." (exit 1).
"""

import smtplib
import sys

from smtp_common import HOST, check, port, tls_context

login, password, rcpt1, rcpt2 = sys.argv[1:5]


def message(subject):
    return f"From: {login}\r\nTo: {rcpt1}, {rcpt2}\r\nSubject: {subject}\r\n\r\nx\r\n".encode()


with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
    smtp.login(login, password)
    refused = smtp.sendmail(login, [rcpt1, rcpt2], message("hai nguoi nhan"))
    check(not refused, f"refused {refused}")
    code, text = smtp.mail(login)
    check(code == 250, f"MAIL with one recipient left: {code} {text}")
    code, text = smtp.rcpt(rcpt1)
    check(code == 250, f"RCPT within the limit: {code} {text}")
    code, text = smtp.rcpt(rcpt2)
    check(code == 452 and text.startswith(b"4.7.1"), f"RCPT over the limit: {code} {text}")
    code, text = smtp.data(message("mot nguoi nhan"))
    check(code == 250, f"DATA {code} {text}")
    code, text = smtp.mail(login)
    check(code == 451 and text.startswith(b"4.7.1"), f"MAIL over the limit: {code} {text}")
print("OK")
