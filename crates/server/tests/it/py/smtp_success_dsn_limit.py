"""Success notices are rate-limited per address: a signed-in sender asking NOTIFY=SUCCESS on
COUNT messages gets at most LIMIT notices in the hour (the messages themselves all arrive).

Usage: smtp_success_dsn_limit.py LOGIN PASSWORD RCPT RCPT_PASSWORD COUNT LIMIT
Prints "OK" or "FAILED: ..." (exit 1).
"""

import email
import email.policy
import smtplib
import sys

from smtp_common import HOST, check, inbox, port, tls_context

login, password, rcpt, rcpt_password, count, limit = sys.argv[1:7]
count, limit = int(count), int(limit)
with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
    smtp.login(login, password)
    for i in range(count):
        code, text = smtp.mail(login)
        check(code == 250, f"MAIL {code} {text}")
        code, text = smtp.rcpt(rcpt, ["NOTIFY=SUCCESS"])
        check(code == 250, f"RCPT {code} {text}")
        code, text = smtp.data(f"From: {login}\r\nTo: {rcpt}\r\nSubject: {i}\r\n\r\n{i}\r\n".encode())
        check(code == 250, f"DATA {code} {text}")

reports = [
    raw for raw in inbox(login, password)
    if email.message_from_bytes(raw, policy=email.policy.default).get_content_type()
    == "multipart/report"
]
check(len(reports) == limit, f"{len(reports)} success notices for {count} messages")
check(len(inbox(rcpt, rcpt_password)) == count, "not every message arrived")
print("OK")
