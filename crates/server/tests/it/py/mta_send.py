"""Submits messages through the submissions port (implicit TLS + AUTH PLAIN).

Usage: mta_send.py LOGIN PASSWORD FROM SUBJECT RCPT[,RCPT...] [COUNT] [HEADER_FROM]
Prints "sent N" or the refusal ("refused CODE TEXT") and exits 0 either way; exit 1 on a
protocol surprise. With COUNT > 1 the subject gets " #i" appended.
"""

import smtplib
import sys

from smtp_common import HOST, port, tls_context

login, password, mail_from, subject, rcpts = sys.argv[1:6]
count = int(sys.argv[6]) if len(sys.argv) > 6 else 1
header_from = sys.argv[7] if len(sys.argv) > 7 else mail_from
rcpts = rcpts.split(",")

with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
    smtp.login(login, password)
    sent = 0
    for i in range(count):
        s = subject if count == 1 else f"{subject} #{i}"
        body = (
            f"From: {header_from}\r\n"
            f"To: {', '.join(rcpts)}\r\n"
            f"Subject: {s}\r\n"
            f"Message-ID: <{s.replace(' ', '.').replace('#', 'n')}.{i}@test.caobang.gov.vn>\r\n"
            f"Date: Fri, 28 Nov 2025 10:00:00 +0700\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "Kính gửi các đơn vị,\r\n.dòng bắt đầu bằng dấu chấm\r\nTrân trọng.\r\n"
        ).encode("utf-8")
        try:
            smtp.sendmail(mail_from, rcpts, body)
            sent += 1
        except smtplib.SMTPRecipientsRefused as e:
            code, text = list(e.recipients.values())[0]
            print(f"refused {code} {text.decode('utf-8', 'replace')}")
            sys.exit(0)
        except smtplib.SMTPSenderRefused as e:
            print(f"refused {e.smtp_code} {e.smtp_error.decode('utf-8', 'replace')}")
            sys.exit(0)
        except smtplib.SMTPDataError as e:
            print(f"refused {e.smtp_code} {e.smtp_error.decode('utf-8', 'replace')}")
            sys.exit(0)
    print(f"sent {sent}")
