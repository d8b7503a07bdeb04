"""Mail to group addresses, sent over the MX listener or SMTP submission, and what arrived.

Usage:
  group_mail.py mx MAIL_FROM SUBJECT RCPT...
      Sends one message over the MX listener (no sign-in). Prints one line per recipient,
      "RCPT CODE TEXT" as answered at RCPT TO, then "sent" when DATA was accepted (or
      "not sent" when no recipient was).
  group_mail.py submit LOGIN PASSWORD SUBJECT RCPT...
      The same over submission (implicit TLS, AUTH PLAIN), MAIL FROM the login.
  group_mail.py count LOGIN PASSWORD SUBJECT
      Prints how many INBOX messages (read over IMAPS) have this subject.
"""

import email
import email.policy
import smtplib
import sys

from smtp_common import HOST, check, inbox, port, tls_context


def message(mail_from, subject, rcpts):
    return (
        f"From: {mail_from}\r\n"
        f"To: {', '.join(rcpts)}\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{subject}@test.caobang.gov.vn>\r\n"
        "Date: Fri, 28 Nov 2025 10:00:00 +0700\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Kính gửi toàn thể cán bộ,\r\nTrân trọng.\r\n"
    ).encode("utf-8")


def send(smtp, mail_from, subject, rcpts):
    smtp.ehlo("client.test")
    code, text = smtp.mail(mail_from)
    check(code == 250, f"MAIL FROM: {code} {text!r}")
    accepted = []
    for rcpt in rcpts:
        code, text = smtp.rcpt(rcpt)
        print(f"{rcpt} {code} {text.decode('utf-8', 'replace')}")
        if code == 250:
            accepted.append(rcpt)
    if not accepted:
        smtp.rset()
        print("not sent")
        return
    code, text = smtp.data(message(mail_from, subject, accepted))
    check(code == 250, f"DATA: {code} {text!r}")
    print("sent")


mode = sys.argv[1]
if mode == "mx":
    mail_from, subject = sys.argv[2:4]
    with smtplib.SMTP(HOST, port("smtp"), timeout=60) as smtp:
        send(smtp, mail_from, subject, sys.argv[4:])
elif mode == "submit":
    login, password, subject = sys.argv[2:5]
    with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
        smtp.login(login, password)
        send(smtp, login, subject, sys.argv[5:])
elif mode == "count":
    login, password, subject = sys.argv[2:5]
    n = 0
    for raw in inbox(login, password):
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if str(msg["Subject"]) == subject:
            n += 1
    print(n)
else:
    check(False, f"unknown mode {mode}")
