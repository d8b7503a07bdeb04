"""Mail that a real MTA (a private Postfix) relays to hopthu's MX port: sends one message for a
local mailbox and one for an unknown address through Postfix, then waits (bounded) for the first
in the mailbox (read over IMAPS) and checks what hopthu added: its Received line above
Postfix's, with TLS (Postfix uses STARTTLS when offered), and an SPF pass for the relaying host.

Usage: mta_from_postfix.py POSTFIX_PORT RCPT PASSWORD UNKNOWN_RCPT
Prints "OK" or "FAILED: ..." (exit 1).
"""

import email
import email.policy
import smtplib
import sys
import time

from smtp_common import check, inbox

postfix_port, rcpt, password, unknown = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
body = "Kính gửi Văn phòng,\r\nCông văn chuyển qua Postfix.\r\nTrân trọng.\r\n"
with smtplib.SMTP("127.0.0.1", postfix_port, timeout=60) as smtp:
    for to, subject in ((rcpt, "Qua Postfix"), (unknown, "Khong ai nhan")):
        message = (
            f"From: Người Gửi <nguoigui@example.net>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@example.net>\r\n"
            "Date: Fri, 28 Nov 2025 10:00:00 +0700\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + body
        ).encode("utf-8")
        smtp.sendmail("nguoigui@example.net", [to], message)

deadline = time.time() + 60
found = None
while time.time() < deadline and found is None:
    for raw in inbox(rcpt, password):
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if str(msg["Subject"]) == "Qua Postfix":
            found = msg
    if found is None:
        time.sleep(0.3)
check(found is not None, "the message relayed by Postfix did not arrive")
received = found.get_all("Received") or []
check(len(received) >= 2, f"Received lines: {received}")
ours, theirs = str(received[0]), str(received[1])
check("mx.example.net" in ours and "hopthu" in ours, f"hopthu's Received line: {ours!r}")
check("TLS" in ours, f"Postfix did not use STARTTLS: {ours!r}")
check("by mx.example.net" in theirs, f"Postfix's Received line: {theirs!r}")
results = " ".join(str(h) for h in found.get_all("Authentication-Results") or [])
check("spf=pass" in results, f"Authentication-Results: {results!r}")
content = found.get_content().replace("\r\n", "\n")
check(content == body.replace("\r\n", "\n"), f"body {content!r}")
print("OK")
