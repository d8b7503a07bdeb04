"""Inbound SPF/DKIM/DMARC on the MX port (run with Debian's /usr/bin/python3 for dkimpy).

The private DNS publishes, for sender.example: SPF `ip4:127.0.0.1 -all`, a DKIM key under
selector `sel`, DMARC `p=reject`; for spoofed.example: SPF `-all` and DMARC `p=reject`.

1. A message from sender.example signed by dkimpy (plus a forged Authentication-Results
   carrying our hostname) is accepted; in the INBOX it has exactly one Authentication-Results,
   ours, with spf=pass, dkim=pass, dmarc=pass.
2. An unsigned message claiming spoofed.example is refused at DATA with 550 5.7.1.

Usage: /usr/bin/python3 inbound_auth.py KEY_PEM RCPT PASSWORD
"""

import smtplib
import sys

import dkim

from smtp_common import HOST, check, inbox, port

key_file, rcpt, password = sys.argv[1:4]
key = open(key_file, "rb").read()

message = (
    "From: Ban Tin <ban@sender.example>\r\n"
    f"To: {rcpt}\r\n"
    "Subject: Signed by dkimpy\r\n"
    "Message-ID: <signed-1@sender.example>\r\n"
    "Date: Fri, 28 Nov 2025 10:00:00 +0700\r\n"
    "\r\n"
    "Noi dung da ky.\r\n"
).encode()
signature = dkim.sign(
    message,
    b"sel",
    b"sender.example",
    key,
    include_headers=[b"from", b"to", b"subject", b"message-id", b"date"],
)
forged = b"Authentication-Results: mail.caobang.gov.vn; dkim=pass header.d=forged.example\r\n"
with smtplib.SMTP(HOST, port("smtp"), timeout=60) as smtp:
    smtp.ehlo("mx.sender.example")
    smtp.sendmail("ban@sender.example", [rcpt], forged + signature + message)
print("signed message accepted", flush=True)

with smtplib.SMTP(HOST, port("smtp"), timeout=60) as smtp:
    smtp.ehlo("mx.spoofed.example")
    code, text = smtp.mail("giamdoc@spoofed.example")
    check(code == 250, f"MAIL: {code} {text}")
    code, text = smtp.rcpt(rcpt)
    check(code == 250, f"RCPT: {code} {text}")
    code, text = smtp.data(
        b"From: giamdoc@spoofed.example\r\nTo: x\r\nSubject: Chuyen tien gap\r\n\r\nGia mao.\r\n"
    )
    check(code == 550 and text.startswith(b"5.7.1") and b"DMARC" in text, f"DATA: {code} {text}")
print(f"spoofed p=reject message refused: {code} {text.decode()}", flush=True)

messages = inbox(rcpt, password)
check(len(messages) == 1, f"expected one message, got {len(messages)}")
head = messages[0].split(b"\r\n\r\n", 1)[0].decode()
fields = [f for f in head.replace("\r\n\t", " ").replace("\r\n ", " ").split("\r\n")
          if f.lower().startswith("authentication-results:")]
check(len(fields) == 1, f"expected our Authentication-Results only: {fields}")
results = fields[0]
print(results, flush=True)
check(results.startswith("Authentication-Results: mail.caobang.gov.vn;"), results)
for want in ("dkim=pass", "spf=pass", "dmarc=pass", "header.i=@sender.example", "header.s=sel"):
    check(want in results, f"{want} missing: {results}")
check("forged.example" not in results, results)
print("OK", flush=True)
