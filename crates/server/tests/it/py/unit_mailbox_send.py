"""Sending for a unit mailbox (Đ12) over SMTP submission (implicit TLS + AUTH PLAIN), and what
arrived.

Usage:
  unit_mailbox_send.py send LOGIN PASSWORD MAIL_FROM HEADER_FROM SENDER|- SUBJECT RCPT
      Prints "sent" or the refusal ("refused CODE TEXT"); exit 0 either way, 1 on a surprise.
      SENDER "-" leaves out the Sender: field. The Message-ID is <SUBJECT@test.caobang.gov.vn>.
  unit_mailbox_send.py inbox LOGIN PASSWORD
      Prints "SUBJECT|FROM|SENDER|MESSAGE-ID" for each INBOX message (read over IMAPS).
"""

import email
import email.policy
import smtplib
import sys

from smtp_common import HOST, check, inbox, port, tls_context

mode = sys.argv[1]
if mode == "inbox":
    login, password = sys.argv[2:4]
    for raw in inbox(login, password):
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        fields = [str(msg[name] or "-") for name in ("Subject", "From", "Sender", "Message-ID")]
        print("|".join(fields))
    sys.exit(0)

check(mode == "send", f"unknown mode {mode}")
login, password, mail_from, header_from, sender, subject, rcpt = sys.argv[2:9]
body = (
    f"From: {header_from}\r\n"
    + (f"Sender: {sender}\r\n" if sender != "-" else "")
    + f"To: {rcpt}\r\n"
    f"Subject: {subject}\r\n"
    f"Message-ID: <{subject}@test.caobang.gov.vn>\r\n"
    "Date: Fri, 28 Nov 2025 10:00:00 +0700\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Kính gửi các đơn vị,\r\nTrân trọng.\r\n"
).encode("utf-8")

with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
    smtp.login(login, password)
    try:
        smtp.sendmail(mail_from, [rcpt], body)
        print("sent")
    except smtplib.SMTPSenderRefused as e:
        print(f"refused {e.smtp_code} {e.smtp_error.decode('utf-8', 'replace')}")
    except smtplib.SMTPDataError as e:
        print(f"refused {e.smtp_code} {e.smtp_error.decode('utf-8', 'replace')}")
    except smtplib.SMTPRecipientsRefused as e:
        code, text = list(e.recipients.values())[0]
        print(f"refused {code} {text.decode('utf-8', 'replace')}")
