"""Sends one message with DSN parameters (RFC 3461) through the submissions port, after
checking that malformed parameters are refused with 501 5.5.4.

Usage: mta_dsn.py LOGIN PASSWORD
Recipients: nobody@example.net NOTIFY=FAILURE ORCPT=rfc822;nobody@example.net,
never@example.net NOTIFY=NEVER, later@example.net NOTIFY=DELAY,FAILURE; MAIL RET=HDRS
ENVID=env+2B42 (xtext for "env+42"). Prints "sent".
"""

import smtplib
import sys

from smtp_common import HOST, check, port, reply_ok, tls_context

login, password = sys.argv[1:3]

with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
    smtp.login(login, password)
    check(smtp.has_extn("dsn"), "DSN not advertised")
    reply_ok(smtp.mail(login, ["RET=XYZ"]), 501, "5.5.4")
    reply_ok(smtp.mail(login, ["ENVID=" + "x" * 101]), 501, "5.5.4")
    reply_ok(smtp.mail(login, ["RET=HDRS", "ENVID=env+2B42"]), 250, "2.1.0")
    reply_ok(smtp.rcpt("nobody@example.net", ["NOTIFY=NEVER,SUCCESS"]), 501, "5.5.4")
    reply_ok(smtp.rcpt("nobody@example.net", ["NOTIFY=SOMETIMES"]), 501, "5.5.4")
    reply_ok(smtp.rcpt("nobody@example.net", ["ORCPT=x400;abc"]), 501, "5.5.4")
    reply_ok(smtp.rcpt("nobody@example.net", ["NOTIFY=FAILURE", "ORCPT=rfc822;nobody@example.net"]), 250, "2.1.5")
    reply_ok(smtp.rcpt("never@example.net", ["NOTIFY=NEVER"]), 250, "2.1.5")
    reply_ok(smtp.rcpt("later@example.net", ["NOTIFY=DELAY,FAILURE"]), 250, "2.1.5")
    body = (
        f"From: {login}\r\nTo: nobody@example.net\r\nSubject: DSN test\r\n"
        "Message-ID: <dsn-test@test.caobang.gov.vn>\r\n"
        "Date: Fri, 28 Nov 2025 10:00:00 +0700\r\n\r\n"
        "THE-BODY-MUST-NOT-COME-BACK\r\n"
    )
    code, text = smtp.data(body.encode())
    check(code == 250, f"DATA: {code} {text}")
print("sent")
