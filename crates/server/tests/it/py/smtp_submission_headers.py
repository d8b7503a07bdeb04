"""Submission completes a message's header: one without Message-ID and Date gets both (a
Message-ID in the server's domain, the current Date), one that has them keeps them as they were
and gets no second copy. Mail is submitted over submissions (implicit TLS + AUTH PLAIN) and read
back over IMAPS.

Usage: smtp_submission_headers.py LOGIN PASSWORD RCPT RCPT_PASSWORD
Prints "ok" or "FAILED: ..." (exit 1).
"""

import email
import email.policy
import email.utils
import smtplib
import sys
import time

from smtp_common import DOMAIN, HOST, check, inbox, port, tls_context

login, password, rcpt, rcpt_password = sys.argv[1:5]


def message(subject, extra=""):
    return (
        f"From: {login}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Kính gửi đồng chí,\r\nđề nghị xem xét.\r\n"
    ).encode("utf-8")


with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
    smtp.login(login, password)
    smtp.sendmail(login, [rcpt], message("Thieu tieu de"))
    smtp.sendmail(
        login,
        [rcpt],
        message(
            "Du tieu de",
            "Message-ID: <co-san.1@may-khach.example>\r\nDate: Fri, 28 Nov 2025 10:00:00 +0700\r\n",
        ),
    )

by_subject = {}
for raw in inbox(rcpt, rcpt_password):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    by_subject[msg["Subject"]] = msg
check(set(by_subject) == {"Thieu tieu de", "Du tieu de"}, f"subjects {sorted(by_subject)}")

added = by_subject["Thieu tieu de"]
ids = added.get_all("Message-ID") or []
check(len(ids) == 1, f"Message-ID headers {ids}")
mid = ids[0].strip()
check(mid.startswith("<") and mid.endswith(">") and "@" in mid, f"Message-ID {mid!r}")
check(mid[1:-1].rsplit("@", 1)[1].endswith(DOMAIN), f"Message-ID not in {DOMAIN}: {mid!r}")
dates = added.get_all("Date") or []
check(len(dates) == 1, f"Date headers {dates}")
when = email.utils.parsedate_to_datetime(dates[0])
check(when.tzinfo is not None, f"Date without zone {dates[0]!r}")
check(abs(when.timestamp() - time.time()) < 3600, f"Date not current: {dates[0]!r}")

kept = by_subject["Du tieu de"]
check(kept.get_all("Message-ID") == ["<co-san.1@may-khach.example>"], f"{kept.get_all('Message-ID')}")
check(kept.get_all("Date") == ["Fri, 28 Nov 2025 10:00:00 +0700"], f"{kept.get_all('Date')}")
print("ok")
