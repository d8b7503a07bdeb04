"""Inbound mail on the MX port when DNS is slow or absent (run with Debian's /usr/bin/python3
for dkimpy in the `signed` mode).

Modes:
  accept RCPT PASSWORD DOMAIN WANT...  one unsigned message from ban@DOMAIN is accepted (250);
                                        in the INBOX its Authentication-Results (ours only)
                                        contains every WANT (e.g. spf=temperror).
  defer RCPT DOMAIN                     one message from ban@DOMAIN is deferred at DATA with
                                        451 4.4.3.
  signed KEY RCPT PASSWORD FIRST COUNT  messages FIRST..FIRST+COUNT-1 from ban@sender.example,
                                        DKIM-signed by dkimpy (selector `sel`), sent over up to
                                        5 connections at once; each must be accepted, and every
                                        message in the INBOX must carry spf, dkim and dmarc pass.

Every client timeout is generous (60 s): the server must answer within its DNS budget, and a
hang shows up as a failure, not a slow pass.
"""

import smtplib
import sys
import threading
import time

from smtp_common import HOST, check, inbox, port


def message(rcpt, domain, n):
    return (
        f"From: Ban Tin <ban@{domain}>\r\n"
        f"To: {rcpt}\r\n"
        f"Subject: Thu so {n}\r\n"
        f"Message-ID: <dns-{n}@{domain}>\r\n"
        "Date: Fri, 28 Nov 2025 10:00:00 +0700\r\n"
        "\r\n"
        f"Noi dung thu so {n}.\r\n"
    ).encode()


def results_of(raw):
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    fields = [f for f in head.replace("\r\n\t", " ").replace("\r\n ", " ").split("\r\n")
              if f.lower().startswith("authentication-results:")]
    check(len(fields) == 1, f"expected one Authentication-Results: {fields}")
    return fields[0]


def send_one(rcpt, domain, body):
    with smtplib.SMTP(HOST, port("smtp"), timeout=60) as smtp:
        smtp.ehlo(f"mx.{domain}")
        code, text = smtp.mail(f"ban@{domain}")
        check(code == 250, f"MAIL: {code} {text}")
        code, text = smtp.rcpt(rcpt)
        check(code == 250, f"RCPT: {code} {text}")
        return smtp.data(body)


mode = sys.argv[1]
if mode == "accept":
    rcpt, password, domain, *want = sys.argv[2:]
    started = time.monotonic()
    code, text = send_one(rcpt, domain, message(rcpt, domain, 1))
    check(code == 250, f"DATA: {code} {text}")
    print(f"accepted after {time.monotonic() - started:.1f} s", flush=True)
    messages = inbox(rcpt, password)
    check(len(messages) == 1, f"expected one message, got {len(messages)}")
    results = results_of(messages[0])
    print(results, flush=True)
    check(results.startswith("Authentication-Results: mail.caobang.gov.vn;"), results)
    for w in want:
        check(w in results, f"{w} missing: {results}")
elif mode == "defer":
    rcpt, domain = sys.argv[2:4]
    code, text = send_one(rcpt, domain, message(rcpt, domain, 1))
    check(code == 451 and text.startswith(b"4.4.3"), f"DATA: {code} {text}")
    print(f"deferred: {code} {text.decode()}", flush=True)
elif mode == "signed":
    import dkim

    key_file, rcpt, password, first, count = sys.argv[2:7]
    first, count = int(first), int(count)
    key = open(key_file, "rb").read()
    failures = []

    def sender(numbers):
        try:
            with smtplib.SMTP(HOST, port("smtp"), timeout=60) as smtp:
                smtp.ehlo("mx.sender.example")
                for n in numbers:
                    body = message(rcpt, "sender.example", n)
                    signature = dkim.sign(
                        body, b"sel", b"sender.example", key,
                        include_headers=[b"from", b"to", b"subject", b"message-id", b"date"],
                    )
                    smtp.sendmail("ban@sender.example", [rcpt], signature + body)
        except Exception as e:  # reported below, after every thread ended
            failures.append(repr(e))

    numbers = list(range(first, first + count))
    threads = [threading.Thread(target=sender, args=(numbers[i::5],)) for i in range(min(5, count))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not failures, f"sending failed: {failures}")
    messages = inbox(rcpt, password)
    check(len(messages) == first + count - 1,
          f"expected {first + count - 1} messages, got {len(messages)}")
    for raw in messages:
        results = results_of(raw)
        for w in ("spf=pass", "dkim=pass", "dmarc=pass"):
            check(w in results, f"{w} missing: {results}")
    print(f"sent {count}", flush=True)
else:
    check(False, f"unknown mode {mode}")
print("OK", flush=True)
