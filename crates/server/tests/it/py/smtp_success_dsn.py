"""Success notices for local delivery (RFC 3461 §5.2.2): a message submitted with ENVID and
RET=FULL to one recipient asking NOTIFY=SUCCESS (with an ORCPT) and one asking only
NOTIFY=FAILURE brings the sender one report (multipart/report, delivery-status) naming only
the first, as delivered (2.0.0), with the ORCPT and ENVID, and the original's header without
its body.

Usage: smtp_success_dsn.py LOGIN PASSWORD RCPT_SUCCESS RCPT_FAILURE_ONLY
Prints "OK" or "FAILED: ..." (exit 1).
"""

import email
import email.policy
import smtplib
import sys

from smtp_common import HOST, check, inbox, port, tls_context

login, password, wants, quiet = sys.argv[1:5]
message = (
    f"From: {login}\r\nTo: {wants}, {quiet}\r\nSubject: Xin bao nhan\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Nội dung mật không được gửi lại trong báo nhận.\r\n"
).encode("utf-8")
with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
    smtp.login(login, password)
    smtp.ehlo()
    check(smtp.has_extn("DSN"), "DSN not announced")
    code, text = smtp.mail(login, ["ENVID=cv-2025-17", "RET=FULL"])
    check(code == 250, f"MAIL {code} {text}")
    code, text = smtp.rcpt(wants, ["NOTIFY=SUCCESS,FAILURE", f"ORCPT=rfc822;{wants}"])
    check(code == 250, f"RCPT {code} {text}")
    code, text = smtp.rcpt(quiet, ["NOTIFY=FAILURE"])
    check(code == 250, f"RCPT {code} {text}")
    code, text = smtp.data(message)
    check(code == 250, f"DATA {code} {text}")

reports = []
for raw in inbox(login, password):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.get_content_type() == "multipart/report":
        reports.append((raw, msg))
check(len(reports) == 1, f"{len(reports)} reports in the sender's INBOX")
raw, report = reports[0]
check(report["From"].addresses[0].addr_spec.startswith("postmaster@"), f"From {report['From']}")
check("Success" in str(report["Subject"]), f"Subject {report['Subject']}")
status = [p for p in report.walk() if p.get_content_type() == "message/delivery-status"]
check(len(status) == 1, "no delivery-status part")
blocks = status[0].get_payload()
per_message, per_recipient = blocks[0], blocks[1:]
check(per_message["Original-Envelope-Id"] == "cv-2025-17", f"ENVID {per_message['Original-Envelope-Id']}")
check(len(per_recipient) == 1, f"{len(per_recipient)} recipient blocks")
r = per_recipient[0]
check(r["Final-Recipient"] == f"rfc822; {wants}", f"Final-Recipient {r['Final-Recipient']}")
check(r["Original-Recipient"] == f"rfc822;{wants}", f"Original-Recipient {r['Original-Recipient']}")
check(r["Action"] == "delivered" and r["Status"] == "2.0.0", f"{r['Action']} {r['Status']}")
check(quiet.encode() not in raw.split(b"text/rfc822-headers")[0].split(b"delivery-status")[1],
      "the NOTIFY=FAILURE recipient is reported")
headers = [p for p in report.walk() if p.get_content_type() == "text/rfc822-headers"]
check(len(headers) == 1, "no text/rfc822-headers part")
check("Subject: Xin bao nhan" in headers[0].get_content(), "original header missing")
check("mật".encode() not in raw and "Nội dung".encode() not in raw, "the body came back")
print("OK")
