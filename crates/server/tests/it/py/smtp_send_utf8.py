"""Test 1: Vietnamese mail through submission (STARTTLS + AUTH PLAIN) and submissions
(implicit TLS + AUTH LOGIN) arrives byte for byte, after our Received: header and our two
DKIM-Signature: fields (Đ14.2), in the recipient's INBOX read over IMAPS.

Usage: smtp_send_utf8.py SENDER PASSWORD RECIPIENT RECIPIENT_PASSWORD
"""

import smtplib
import sys

from smtp_common import HOST, check, inbox, port, split_received, split_signatures, tls_context

sender, password, recipient, recipient_password = sys.argv[1:5]

BODY = (
    "Kính gửi các đơn vị,\r\n"
    "\r\n"
    "Ủy ban nhân dân tỉnh Cao Bằng đề nghị các cơ quan, đơn vị báo cáo tình hình\r\n"
    "thực hiện nhiệm vụ quý IV trước ngày 15/12. Trân trọng cảm ơn!\r\n"
    ".Dòng bắt đầu bằng dấu chấm (dot-stuffing).\r\n"
    "..và hai dấu chấm.\r\n"
    "Ký tự đặc biệt: đ Đ ơ Ơ ư Ư ă Â ê ô — “ngoặc kép” € 😀\r\n"
)

# RFC 2047 encoded subject: "Thông báo họp giao ban tháng 12"
rfc2047 = (
    f"From: Nông Văn Đạt <{sender}>\r\n"
    f"To: <{recipient}>\r\n"
    "Subject: =?UTF-8?B?VGjDtG5nIGLDoW8gaOG7jXAgZ2lhbyBiYW4gdGjDoW5nIDEy?=\r\n"
    "Message-ID: <rfc2047.smtp-test@caobang.gov.vn>\r\n"
    # With Message-ID and Date given, submission adds nothing (RFC 6409 §8).
    "Date: Mon, 01 Dec 2025 08:00:00 +0700\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n" + BODY
).encode("utf-8")

# Raw UTF-8 header (RFC 6532), sent with SMTPUTF8 (RFC 6531).
utf8 = (
    f"From: Nông Văn Đạt <{sender}>\r\n"
    f"To: <{recipient}>\r\n"
    "Subject: Giấy mời họp Ủy ban — Đợt 2\r\n"
    "Message-ID: <utf8.smtp-test@caobang.gov.vn>\r\n"
    # With Message-ID and Date given, submission adds nothing (RFC 6409 §8).
    "Date: Mon, 01 Dec 2025 08:00:00 +0700\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n" + BODY
).encode("utf-8")

# Submission: STARTTLS, then AUTH PLAIN (smtplib's choice).
with smtplib.SMTP(HOST, port("submission"), timeout=30) as smtp:
    smtp.ehlo("client.example")
    check(not smtp.has_extn("auth"), "AUTH offered before STARTTLS")
    smtp.starttls(context=tls_context())
    smtp.ehlo("client.example")
    check(smtp.has_extn("auth"), "AUTH not offered after STARTTLS")
    smtp.login(sender, password)
    refused = smtp.sendmail(sender, [recipient], rfc2047, mail_options=["BODY=8BITMIME"])
    check(refused == {}, f"refused: {refused}")
print("submission STARTTLS + AUTH PLAIN: 250", flush=True)

# Submissions: implicit TLS, AUTH LOGIN with the user name asked for (no initial response).
with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=30) as smtp:
    smtp.ehlo("client.example")
    smtp.user, smtp.password = sender, password
    code, text = smtp.auth("LOGIN", smtp.auth_login, initial_response_ok=False)
    check(code == 235, f"AUTH LOGIN: {code} {text}")
    refused = smtp.sendmail(
        sender, [recipient], utf8, mail_options=["SMTPUTF8", "BODY=8BITMIME"]
    )
    check(refused == {}, f"refused: {refused}")
print("submissions implicit TLS + AUTH LOGIN: 250", flush=True)

messages = inbox(recipient, recipient_password)
check(len(messages) == 2, f"expected 2 messages in INBOX, found {len(messages)}")
for raw, sent, protocol in [(messages[0], rfc2047, b"ESMTPSA"), (messages[1], utf8, b"UTF8SMTPSA")]:
    received, rest = split_received(raw)
    check(b" with " + protocol + b" id " in received, f"Received: lacks {protocol!r}: {received!r}")
    check(f"for <{recipient}>".encode() in received, f"Received: lacks for: {received!r}")
    signatures, rest = split_signatures(rest)
    check(signatures == 2, f"expected our two DKIM-Signature fields, found {signatures}")
    check(rest == sent, f"content differs:\n--- sent\n{sent!r}\n--- stored\n{rest!r}")
print("both messages arrived byte for byte over IMAPS", flush=True)
print("OK")
