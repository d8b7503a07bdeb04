"""Mail for the origin and integrity checks (Đ14.2, `verify.rs`).

Usage:
  verify_mail.py send LOGIN PASSWORD RCPT SUBJECT
      Sends a plain message over SMTP submission (implicit TLS + AUTH PLAIN).
  verify_mail.py send-document LOGIN PASSWORD RCPT SUBJECT
      The same with an `X-Document-Number:` field, as if it were an official document.
  verify_mail.py send-file LOGIN PASSWORD RCPT FILE
      Sends the message in FILE as it is.
  verify_mail.py fetch ADDRESS PASSWORD NEEDLE OUT
      Reads the INBOX over IMAPS (BODY.PEEK[]) and writes the one message containing NEEDLE
      to the file OUT, byte for byte, as a mail client would save it (.eml).
"""

import smtplib
import sys

from smtp_common import HOST, check, inbox, port, tls_context

mode = sys.argv[1]
if mode in ("send", "send-document"):
    login, password, rcpt, subject = sys.argv[2:6]
    extra = "X-Document-Number: 15/SNV\r\n" if mode == "send-document" else ""
    message = (
        f"From: <{login}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Noi dung thu giua hai co quan.\r\n"
    ).encode()
    with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
        smtp.login(login, password)
        smtp.sendmail(login, [rcpt], message)
    print("sent")
elif mode == "send-file":
    login, password, rcpt, path = sys.argv[2:6]
    with open(path, "rb") as f:
        message = f.read()
    with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
        smtp.login(login, password)
        smtp.sendmail(login, [rcpt], message)
    print("sent")
elif mode == "fetch":
    address, password, needle, out = sys.argv[2:6]
    found = [m for m in inbox(address, password) if needle.encode() in m]
    check(len(found) == 1, f"{len(found)} messages contain {needle!r}")
    with open(out, "wb") as f:
        f.write(found[0])
    print("fetched")
else:
    check(False, f"unknown mode {mode}")
