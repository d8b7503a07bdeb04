"""The spam score seen by real clients (driven by tests/it/spam.rs).

  spam_mail.py dnsbl ADDRESS PASSWORD
      MX mail from 127.0.0.1 (listed by zen.example) gets X-Spam-Score with the DNSBL rule and
      X-Spam-Flag: YES and lands in Junk; a forged X-Spam-* field is gone; from 127.0.0.2
      (listed twice) it is refused with 550 5.7.1 and nothing is kept; from 127.0.0.3 (not
      listed) it lands in INBOX with a low score; submitted mail is not scored and its forged
      fields are removed.
  spam_mail.py train ADDRESS PASSWORD
      Ham APPENDed to Junk then moved to INBOX, spam delivered by the MX then moved into Junk
      (IMAP MOVE), one message moved out and back in; prints the score of a probe sent before.
  spam_mail.py rspamd ADDRESS PASSWORD
      rspamd's score is added (RSPAMD); with rspamd gone the next message is still accepted,
      scored without it.
  spam_mail.py probe ADDRESS PASSWORD BEFORE
      A new message like the spam lands in Junk with a higher score and BAYES_SPAM.
"""

import email
import email.utils
import smtplib
import sys
import time

from imap_common import imaps, ok
from smtp_common import check, port, tls_context, HOST


def header_values(raw, name):
    message = email.message_from_bytes(raw)
    return [str(v) for v in (message.get_all(name) or [])]


def folder(imap, name):
    """Every message of a folder, raw, in UID order."""
    ok(imap.select(name, readonly=True))
    data = ok(imap.uid("SEARCH", None, "ALL"))
    uids = data[0].split() if data and data[0] else []
    out = []
    for uid in uids:
        data = ok(imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])"))
        out.append([item[1] for item in data if isinstance(item, tuple)][0])
    return out


def wait_folder(imap, name, count):
    deadline = time.time() + 30
    while True:
        messages = folder(imap, name)
        if len(messages) >= count or time.time() > deadline:
            return messages
        time.sleep(0.2)


def message(subject, body, sender="tin@sender.example", extra=""):
    return (
        f"From: {sender}\r\nTo: x\r\nSubject: {subject}\r\n"
        f"Date: {email.utils.formatdate()}\r\nMessage-ID: {email.utils.make_msgid()}\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n{extra}\r\n{body}\r\n"
    ).encode()


def mx_send(rcpt, raw, source="127.0.0.1"):
    """Sends over the MX from `source`; returns (code, text) of the end of DATA."""
    smtp = smtplib.SMTP(HOST, port("smtp"), timeout=30, source_address=(source, 0))
    try:
        smtp.ehlo("client.sender.example")
        smtp.mail("tin@sender.example")
        code, text = smtp.rcpt(rcpt)
        check(code == 250, f"RCPT from {source}: {code} {text}")
        code, text = smtp.data(raw)
        return code, text.decode(errors="replace")
    finally:
        try:
            smtp.quit()
        except Exception:
            pass


def score_of(raw):
    values = header_values(raw, "X-Spam-Score")
    check(len(values) == 1, f"one X-Spam-Score: {values}")
    return float(values[0])


def dnsbl(address, password):
    forged = "X-Spam-Flag: NO\r\nX-Spam-Score: -50\r\nX-Spam-Status: No, forged\r\n"
    code, text = mx_send(address, message("Thông báo lịch họp", "Nội dung.", extra=forged))
    check(code == 250, f"listed once: {code} {text}")
    imap = imaps(address, password)
    junk = wait_folder(imap, "Junk", 1)
    check(len(junk) == 1, f"one message in Junk: {len(junk)}")
    check(folder(imap, "INBOX") == [], "nothing in INBOX")
    raw = junk[0]
    score = score_of(raw)
    check(score >= 4.0, f"score {score}")
    status = " ".join(header_values(raw, "X-Spam-Status"))
    check(status.startswith("Yes, score="), f"status {status!r}")
    check("DNSBL_ZEN_EXAMPLE" in status, f"the DNSBL rule in {status!r}")
    check(header_values(raw, "X-Spam-Flag") == ["YES"], "our flag alone")
    check(b"forged" not in raw and b"-50" not in raw, "forged fields removed")
    print(f"junk score {score}: {status}", flush=True)

    # Listed twice: over the reject threshold, refused, nothing kept.
    code, text = mx_send(address, message("Thư thứ hai", "Nội dung."), source="127.0.0.2")
    check(code == 550, f"listed twice: {code} {text}")
    check(text.startswith("5.7.1") and "thư rác" in text and "spam" in text, text)
    print(f"refused: {code} {text}", flush=True)

    # Not listed: INBOX, a low score, no flag.
    code, text = mx_send(address, message("Thư thứ ba", "Nội dung."), source="127.0.0.3")
    check(code == 250, f"not listed: {code} {text}")
    inbox = wait_folder(imap, "INBOX", 1)
    check(len(inbox) == 1, f"one message in INBOX: {len(inbox)}")
    low = score_of(inbox[0])
    check(low < 2.0, f"low score {low}")
    status = " ".join(header_values(inbox[0], "X-Spam-Status"))
    check(status.startswith("No, score=") and "DNSBL" not in status, status)
    check(header_values(inbox[0], "X-Spam-Flag") == [], "no flag")
    print(f"inbox score {low}", flush=True)
    check(len(folder(imap, "Junk")) == 1, "still one message in Junk")

    # Submission: never scored, forged fields removed, delivered to INBOX.
    smtp = smtplib.SMTP(HOST, port("submission"), timeout=30)
    smtp.starttls(context=tls_context())
    smtp.login(address, password)
    raw = (
        f"From: {address}\r\nTo: {address}\r\nSubject: Tự gửi\r\n"
        f"X-Spam-Flag: YES\r\nX-Spam-Score: 99\r\n\r\nNội dung.\r\n"
    ).encode()
    smtp.sendmail(address, [address], raw)
    smtp.quit()
    inbox = wait_folder(imap, "INBOX", 2)
    check(len(inbox) == 2, f"two messages in INBOX: {len(inbox)}")
    own = inbox[1]
    for name in ("X-Spam-Flag", "X-Spam-Score", "X-Spam-Status"):
        check(header_values(own, name) == [], f"no {name} on submitted mail")
    check(len(folder(imap, "Junk")) == 1, "submitted mail not in Junk")
    imap.logout()
    print("OK")


SPAM = (
    "Ưu đãi độc quyền mua sắm số {i}",
    "Voucher giảm giá cực sốc cho thành viên mới. Đăng ký tài khoản cửa hàng trực tuyến "
    "ngay hôm nay để nhận mã khuyến mãi, hoàn tiền và quà tặng hấp dẫn. Số lượng có hạn, "
    "ưu đãi độc quyền mua sắm chỉ trong tuần này.",
)
HAM = (
    "Lịch họp giao ban tuần {i}",
    "Kính gửi các phòng chuyên môn, Văn phòng thông báo lịch họp giao ban tuần tại phòng "
    "họp số 2. Đề nghị các đồng chí trưởng phòng chuẩn bị báo cáo công tác và tham dự "
    "đúng giờ.",
)


def move(imap, source, uids, target):
    ok(imap.select(source))
    ok(imap.uid("MOVE", ",".join(uids), target))


def all_uids(imap, name):
    ok(imap.select(name, readonly=True))
    data = ok(imap.uid("SEARCH", None, "ALL"))
    return [u.decode() for u in data[0].split()] if data and data[0] else []


def train(address, password):
    # The probe before any training: INBOX, no Bayes.
    subject, body = SPAM
    code, text = mx_send(address, message(subject.format(i=0), body))
    check(code == 250, f"probe: {code} {text}")
    imap = imaps(address, password)
    inbox = wait_folder(imap, "INBOX", 1)
    check(len(inbox) == 1, f"probe in INBOX: {len(inbox)}")
    before = score_of(inbox[0])
    status = " ".join(header_values(inbox[0], "X-Spam-Status"))
    check("BAYES" not in status, f"no Bayes yet: {status}")
    # Clear the probe out of the way (into Trash: teaches nothing).
    move(imap, "INBOX", all_uids(imap, "INBOX"), "Trash")
    # Ham: put into Junk by APPEND (teaches nothing), then moved out to INBOX.
    for i in range(1, 5):
        subject, body = HAM
        raw = message(subject.format(i=i), body, sender="vanphong@caobang.gov.vn")
        ok(imap.append("Junk", None, None, raw))
    move(imap, "Junk", all_uids(imap, "Junk"), "INBOX")
    ham_uids = all_uids(imap, "INBOX")
    check(len(ham_uids) == 4, f"ham in INBOX: {ham_uids}")
    # Spam: delivered by the MX (INBOX, low score), then moved into Junk.
    for i in range(1, 5):
        subject, body = SPAM
        code, text = mx_send(address, message(subject.format(i=i), body))
        check(code == 250, f"spam {i}: {code} {text}")
    inbox = wait_folder(imap, "INBOX", 8)
    check(len(inbox) == 8, f"ham and spam in INBOX: {len(inbox)}")
    spam_uids = [u for u in all_uids(imap, "INBOX") if u not in ham_uids]
    move(imap, "INBOX", spam_uids, "Junk")
    # Back and forth: one spam out of Junk and in again counts once.
    junk = all_uids(imap, "Junk")
    check(len(junk) == 4, f"spam in Junk: {junk}")
    move(imap, "Junk", [junk[0]], "INBOX")
    back = [u for u in all_uids(imap, "INBOX") if u not in ham_uids]
    move(imap, "INBOX", back, "Junk")
    imap.logout()
    print(before)


def probe(address, password, before):
    before = float(before)
    subject, body = SPAM
    code, text = mx_send(address, message(subject.format(i=99), body))
    check(code == 250, f"probe: {code} {text}")
    imap = imaps(address, password)
    junk = wait_folder(imap, "Junk", 5)
    check(len(junk) == 5, f"the probe in Junk: {len(junk)}")
    raw = junk[-1]
    check(b"s\xe1\xbb\x91 99" in raw, "the probe is the newest in Junk")
    after = score_of(raw)
    status = " ".join(header_values(raw, "X-Spam-Status"))
    check(after > before and "BAYES_SPAM" in status, f"{before} -> {after}: {status}")
    check(header_values(raw, "X-Spam-Flag") == ["YES"], "flagged")
    check(len(folder(imap, "INBOX")) == 4, "only the ham in INBOX")
    imap.logout()
    print(f"{before} -> {after}: {status}")
    print("OK")


def rspamd(address, password):
    code, text = mx_send(address, message("Thư một", "Nội dung."))
    check(code == 250, f"with rspamd: {code} {text}")
    imap = imaps(address, password)
    inbox = wait_folder(imap, "INBOX", 1)
    status = " ".join(header_values(inbox[0], "X-Spam-Status"))
    check("RSPAMD" in status and score_of(inbox[0]) >= 2.5, f"rspamd's score: {status}")
    print(f"with rspamd: {status}", flush=True)
    code, text = mx_send(address, message("Thư hai", "Nội dung."))
    check(code == 250, f"rspamd gone: {code} {text}")
    inbox = wait_folder(imap, "INBOX", 2)
    check(len(inbox) == 2, f"both in INBOX: {len(inbox)}")
    status = " ".join(header_values(inbox[1], "X-Spam-Status"))
    check("RSPAMD" not in status and score_of(inbox[1]) < 2.5, f"without rspamd: {status}")
    print(f"without rspamd: {status}", flush=True)
    imap.logout()
    print("OK")


if __name__ == "__main__":
    {"dnsbl": dnsbl, "train": train, "probe": probe, "rspamd": rspamd}[sys.argv[1]](*sys.argv[2:])
