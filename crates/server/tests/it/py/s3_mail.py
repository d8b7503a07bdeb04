"""Mail for the S3 blob tests.

    python3 s3_mail.py send LOGIN PASSWORD MARKER KIB RCPT
        Submits (submissions port, AUTH PLAIN) one message to RCPT whose subject is MARKER and
        whose body is about KIB KiB of UTF-8 lines naming MARKER; prints "sent".
    python3 s3_mail.py fetch ADDRESS PASSWORD OUTDIR
        Writes BODY.PEEK[] of every INBOX message to OUTDIR/<uid>.eml, byte for byte; prints
        the UIDs.
"""
import os
import re
import smtplib
import sys

from imap_common import imaps, ok
from smtp_common import HOST, port, tls_context

command = sys.argv[1]
if command == "send":
    login, password, marker, kib, rcpt = sys.argv[2:7]
    lines = []
    size = 0
    i = 0
    while size < int(kib) * 1024:
        line = f"Dòng {i} của thư {marker}: nội dung kiểm thử lưu trữ S3.\r\n"
        lines.append(line)
        size += len(line.encode("utf-8"))
        i += 1
    body = (
        f"From: {login}\r\n"
        f"To: {rcpt}\r\n"
        f"Subject: {marker}\r\n"
        f"Message-ID: <{marker}@test.caobang.gov.vn>\r\n"
        "Date: Fri, 28 Nov 2025 10:00:00 +0700\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n" + "".join(lines)
    ).encode("utf-8")
    with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
        smtp.login(login, password)
        smtp.sendmail(login, [rcpt], body)
    print("sent")
elif command == "fetch":
    user, password, outdir = sys.argv[2:5]
    c = imaps(user, password)
    ok(c.select("INBOX", readonly=True))
    typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
    assert typ == "OK", data
    for item in data:
        if isinstance(item, tuple):
            uid = re.search(rb"UID (\d+)", item[0]).group(1).decode()
            with open(os.path.join(outdir, f"{uid}.eml"), "wb") as f:
                f.write(item[1])
            print(uid)
    c.logout()
else:
    sys.exit("unknown command %s" % command)
