"""IDLE reports changes as they happen: new mail from another session's APPEND (and, with
`smtp`, mail delivered by SMTP), flag changes and expunges. Arguments: address password
[smtp]."""
import os
import smtplib
import sys
import time

from imap_common import idle_done, idle_start, imaps, ok, read_until

user, password = sys.argv[1], sys.argv[2]
with_smtp = len(sys.argv) > 3 and sys.argv[3] == "smtp"
a = imaps(user, password)
b = imaps(user, password)
ok(a.append("INBOX", None, None, b"Subject: mot\r\n\r\n1\r\n"))
assert ok(b.select("INBOX")) == [b"1"]
ok(a.select("INBOX"))

tag = idle_start(b)
started = time.monotonic()
ok(a.append("INBOX", None, None, b"Subject: hai\r\n\r\n2\r\n"))
lines = read_until(b, lambda l: l == b"* 2 EXISTS\r\n")
# Woken by the notification, not by the 30-second fallback.
assert time.monotonic() - started < 5, (time.monotonic() - started, lines)

ok(a.store("1", "+FLAGS", r"(\Flagged)"))
read_until(b, lambda l: l.startswith(b"* 1 FETCH") and b"\\Flagged" in l)

ok(a.store("1", "+FLAGS.SILENT", r"(\Deleted)"))
ok(a.expunge())
read_until(b, lambda l: l == b"* 1 EXPUNGE\r\n")
idle_done(b, tag)

if with_smtp:
    tag = idle_start(b)
    with smtplib.SMTP(os.environ["HOPTHU_HOST"], int(os.environ["HOPTHU_SMTP_PORT"]), timeout=20) as smtp:
        smtp.ehlo("client.example.org")
        smtp.sendmail("someone@example.org", [user],
                      b"From: someone@example.org\r\nTo: " + user.encode() +
                      b"\r\nSubject: qua SMTP\r\n\r\nXin chao.\r\n")
    read_until(b, lambda l: l == b"* 2 EXISTS\r\n")
    idle_done(b, tag)
    data = ok(b.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    assert b"qua SMTP" in data[0][1], data

# A line that is not DONE ends IDLE with BAD; the session goes on.
tag = idle_start(b)
b.send(b"NOPE\r\n")
lines = read_until(b, lambda l: l.startswith(tag + b" "))
assert lines[-1].startswith(tag + b" BAD"), lines
ok(b.noop())
a.logout()
b.logout()
print("OK")
