"""Mail checks of the lifecycle tests.

    python3 lifecycle_mail.py rcpt ADDRESS
        RCPT TO ADDRESS on the MX port; prints "CODE MESSAGE".
    python3 lifecycle_mail.py send ADDRESS SUBJECT
        Sends a message to ADDRESS on the MX port; prints "sent".
    python3 lifecycle_mail.py inbox ADDRESS PASSWORD MIN
        Waits (20 s at most) for at least MIN messages in ADDRESS's INBOX over IMAPS, then prints
        a JSON list of {"from", "subject", "text"}.
    python3 lifecycle_mail.py send ADDRESS SUBJECT
        Sends a message to ADDRESS on the MX port (from outside the province).
    python3 lifecycle_mail.py folders ADDRESS PASSWORD
        Prints a JSON object of every folder of ADDRESS (IMAP LIST) with its message count.
"""
import email
import imaplib
import json
import os
import smtplib
import ssl
import sys
import time
from email.message import EmailMessage
from email.policy import default

host = os.environ["HOPTHU_HOST"]
command = sys.argv[1]

if command == "rcpt":
    with smtplib.SMTP(host, int(os.environ["HOPTHU_SMTP_PORT"]), timeout=20) as smtp:
        smtp.ehlo("client.example.org")
        code, _ = smtp.mail("congdan@example.org")
        assert code == 250, code
        code, message = smtp.rcpt(sys.argv[2])
        print(code, message.decode())
elif command == "send":
    msg = EmailMessage()
    msg["From"] = "congdan@example.org"
    msg["To"] = sys.argv[2]
    msg["Subject"] = sys.argv[3]
    msg.set_content("Kính gửi.\n")
    with smtplib.SMTP(host, int(os.environ["HOPTHU_SMTP_PORT"]), timeout=20) as smtp:
        refused = smtp.send_message(msg, from_addr="congdan@example.org", to_addrs=[sys.argv[2]])
        assert not refused, refused
    print("sent")
elif command == "inbox":
    address, password, minimum = sys.argv[2], sys.argv[3], int(sys.argv[4])
    ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
    ctx.check_hostname = False
    deadline = time.time() + 20
    with imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20) as imap:
        typ, _ = imap.login(address, password)
        assert typ == "OK", typ
        while True:
            typ, data = imap.select("INBOX", readonly=True)
            assert typ == "OK", (typ, data)
            count = int(data[0])
            if count >= minimum or time.time() > deadline:
                break
            time.sleep(0.2)
        out = []
        if count:
            typ, data = imap.fetch("1:*", "(BODY.PEEK[])")
            assert typ == "OK", (typ, data)
            for item in data:
                if isinstance(item, tuple):
                    msg = email.message_from_bytes(item[1], policy=default)
                    body = msg.get_body(preferencelist=("plain",))
                    out.append({
                        "from": str(msg["From"]),
                        "subject": str(msg["Subject"]),
                        "text": body.get_content() if body else "",
                    })
        print(json.dumps(out, ensure_ascii=False))
        imap.logout()
elif command == "send":
    from email.message import EmailMessage
    msg = EmailMessage()
    msg["From"] = "congdan@example.org"
    msg["To"] = sys.argv[2]
    msg["Subject"] = sys.argv[3]
    msg.set_content("Kính gửi quý cơ quan.\n")
    with smtplib.SMTP(host, int(os.environ["HOPTHU_SMTP_PORT"]), timeout=20) as smtp:
        refused = smtp.send_message(msg, from_addr="congdan@example.org", to_addrs=[sys.argv[2]])
        assert not refused, refused
elif command == "folders":
    import re
    address, password = sys.argv[2], sys.argv[3]
    ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
    ctx.check_hostname = False
    with imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20) as imap:
        typ, _ = imap.login(address, password)
        assert typ == "OK", typ
        imap.enable("UTF8=ACCEPT")
        typ, lines = imap.list()
        assert typ == "OK", (typ, lines)
        out = {}
        for line in lines:
            line = line.decode() if isinstance(line, bytes) else line
            m = re.match(r'\((?P<attrs>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$', line)
            assert m, line
            name = m.group("name")
            if name.startswith('"'):
                name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            if "\\Noselect" in m.group("attrs"):
                out[name] = None
                continue
            quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            typ, data = imap.select(quoted, readonly=True)
            assert typ == "OK", (name, typ, data)
            out[name] = int(data[0])
        print(json.dumps(out, ensure_ascii=False))
        imap.logout()
else:
    sys.exit(f"unknown command {command}")
