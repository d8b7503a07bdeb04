"""Sends a message to an alias over the MX port, then reads the target's INBOX over IMAPS.

    python3 directory_alias.py ALIAS TARGET TARGET_PASSWORD

Prints the subjects found in the target's INBOX, one per line.
"""
import imaplib
import os
import smtplib
import ssl
import sys
import time
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

alias, target, password = sys.argv[1:4]
host = os.environ["HOPTHU_HOST"]

msg = EmailMessage()
msg["From"] = "congdan@example.org"
msg["To"] = alias
msg["Subject"] = "Gửi Sở Thông tin và Truyền thông qua địa chỉ cũ"
msg.set_content("Kính gửi Sở TT&TT.\n")
with smtplib.SMTP(host, int(os.environ["HOPTHU_SMTP_PORT"]), timeout=20) as smtp:
    refused = smtp.send_message(msg, from_addr="congdan@example.org", to_addrs=[alias])
    assert not refused, refused

ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
ctx.check_hostname = False
deadline = time.time() + 20
with imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20) as imap:
    typ, _ = imap.login(target, password)
    assert typ == "OK", typ
    while True:
        typ, data = imap.select("INBOX", readonly=True)
        assert typ == "OK", (typ, data)
        if int(data[0]) > 0 or time.time() > deadline:
            break
        time.sleep(0.2)
    typ, data = imap.fetch("1:*", "(BODY.PEEK[HEADER])")
    assert typ == "OK", (typ, data)
    for item in data:
        if isinstance(item, tuple):
            print(BytesParser(policy=default).parsebytes(item[1])["Subject"])
    imap.logout()
