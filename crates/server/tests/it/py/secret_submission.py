"""Secret documents never go by e-mail (Đ9): messages marked with a secrecy level, sent over SMTP
submission (implicit TLS + AUTH PLAIN, one session), are refused with 550 5.7.1; ordinary ones
whose subject merely starts like a level ("Mật độ", "Mật khẩu") are accepted.

Usage:
  secret_submission.py LOGIN PASSWORD LOCAL_RCPT REMOTE_RCPT LOCAL_RCPT_PASSWORD
      Refused cases go to both recipients (so a queue row would show), accepted ones to the
      local recipient only. Prints "refused NAME" or "accepted NAME" per case, then checks the
      local recipient's INBOX (over IMAPS) holds exactly the accepted subjects. Exit 1 on any
      surprise.
"""

import email
import email.charset
import email.header
import email.policy
import smtplib
import sys

from smtp_common import HOST, check, inbox, port, tls_context

login, password, local, remote, local_password = sys.argv[1:6]


def encoded(text, encoding="b"):
    """An RFC 2047 encoded word, as mail clients write Vietnamese subjects."""
    charset = email.charset.Charset("utf-8")
    charset.header_encoding = email.charset.BASE64 if encoding == "b" else email.charset.QP
    return email.header.Header(text, charset).encode(linesep="\r\n")


# (name, extra header lines, raw Subject value, refused?)
CASES = [
    ("header-toi-mat", ["X-Document-Classification: Tối mật"], "Kế hoạch công tác", True),
    ("header-ascii", ["X-Document-Classification: TOI MAT"], "Ke hoach", True),
    ("header-lower", ["x-document-classification: tuyệt mật"], "Ke hoach", True),
    ("header-encoded", [f"X-Document-Classification: {encoded('Tuyệt mật')}"], "Ke hoach", True),
    ("subject-brackets", [], "[MẬT] Kế hoạch bảo vệ", True),
    ("subject-parens", [], "(Tối mật) Báo cáo quý", True),
    ("subject-colon", [], "Mật: Danh sách", True),
    ("subject-ascii-hyphen", [], "TUYET MAT - Ke hoach", True),
    ("subject-en-dash", [], "Tối mật – Phương án", True),
    ("subject-leading-space", [], "   [mat] ke hoach", True),
    ("subject-reply", [], "Re: [MẬT] Kế hoạch bảo vệ", True),
    ("subject-forward", [], "Fwd: RE: Tối mật: Danh sách", True),
    ("subject-encoded-b", [], encoded("[MẬT] Kế hoạch"), True),
    ("subject-encoded-q", [], encoded("Tối mật: Danh sách", "q"), True),
    ("subject-encoded-reply", [], "Re: " + encoded("Tuyệt mật - Phương án"), True),
    ("ordinary-density", [], "Mật độ dân số năm 2025", False),
    ("ordinary-password", [], "Mật khẩu mới", False),
    ("ordinary-honey", [], "Mật ong rừng Cao Bằng", False),
    ("ordinary-secret-inside", [], "Về bảo vệ bí mật nhà nước: hướng dẫn", False),
    ("ordinary-encoded", [], encoded("Mật độ: 120 người/km²"), False),
    ("ordinary-public", ["X-Document-Classification: public"], "Giấy mời họp", False),
    ("ordinary-thuong", ["X-Document-Classification: Thường"], "Lịch công tác tuần", False),
]


def message(name, headers, subject, rcpts):
    lines = [
        f"From: {login}",
        f"To: {', '.join(rcpts)}",
        f"Subject: {subject}",
        f"Message-ID: <{name}@test.caobang.gov.vn>",
        "Date: Fri, 28 Nov 2025 10:00:00 +0700",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        *headers,
        "",
        f"Nội dung của {name}: không được lưu nếu mật.",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


accepted = []
with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60) as smtp:
    smtp.login(login, password)
    for name, headers, subject, secret in CASES:
        rcpts = [local, remote] if secret else [local]
        try:
            smtp.sendmail(login, rcpts, message(name, headers, subject, rcpts))
            check(not secret, f"{name}: a secret message was accepted")
            print(f"accepted {name}", flush=True)
            accepted.append(name)
        except smtplib.SMTPDataError as e:
            text = e.smtp_error.decode("utf-8", "replace")
            check(secret, f"{name}: an ordinary message was refused: {e.smtp_code} {text}")
            check(e.smtp_code == 550, f"{name}: code {e.smtp_code} {text}")
            check(text.startswith("5.7.1 "), f"{name}: status {text}")
            # Vietnamese first, then English.
            vi = text.find("văn bản mật không được gửi qua thư điện tử")
            en = text.find("secret documents must not be sent by e-mail")
            check(0 <= vi < text.find(" / ") < en, f"{name}: wording {text}")
            print(f"refused {name}", flush=True)

got = []
for raw in inbox(local, local_password):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    got.append(str(msg["Message-ID"]).strip("<>").split("@")[0])
check(sorted(got) == sorted(accepted), f"INBOX holds {got}, expected {accepted}")
