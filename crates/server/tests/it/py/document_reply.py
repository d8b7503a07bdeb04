"""A recipient unit replies to an official document over SMTP submission (Đ15: a reply
acknowledges it).

    python3 document_reply.py UNIT_ADDRESS PASSWORD TO MESSAGE_ID

Signs in as the unit mailbox on the submissions port (implicit TLS) and sends a reply with
In-Reply-To and References naming the document. Prints "sent".
"""
import os
import smtplib
import ssl
import sys
from email.message import EmailMessage

address, password, to, message_id = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
ctx.check_hostname = False
msg = EmailMessage()
msg["From"] = address
msg["To"] = to
msg["Subject"] = "Re: Mời họp giao ban"
msg["In-Reply-To"] = f"<{message_id}>"
msg["References"] = f"<{message_id}>"
msg.set_content("Đơn vị đã nhận văn bản.")
with smtplib.SMTP_SSL(os.environ["HOPTHU_HOST"], int(os.environ["HOPTHU_SUBMISSIONS_PORT"]),
                      context=ctx, timeout=20) as smtp:
    smtp.login(address, password)
    smtp.send_message(msg)
print("sent")
