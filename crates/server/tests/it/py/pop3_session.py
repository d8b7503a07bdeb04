"""POP3 with poplib against hopthu: STLS and POP3S, USER/PASS and AUTH PLAIN, STAT, LIST,
UIDL, TOP, RETR byte for byte, DELE/RSET/QUIT, the maildrop lock, TLS-only passwords.

Messages are put in the INBOX with IMAP APPEND first. Usage: pop3_session.py ADDRESS PASSWORD
"""
import base64
import imaplib
import os
import poplib
import ssl
import sys

host = os.environ["HOPTHU_HOST"]
address, password = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
ctx.check_hostname = False

messages = [
    "From: Nông Văn Đạt <datnv@caobang.gov.vn>\r\nTo: {a}\r\nSubject: =?UTF-8?B?{s}?=\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
    "Kính gửi các đồng chí,\r\n.dòng bắt đầu bằng dấu chấm\r\ndòng ba\r\ndòng bốn\r\n".format(
        a=address, s=base64.b64encode("Giấy mời họp số {}".format(i).encode()).decode()
    ).encode("utf-8")
    for i in range(3)
]
with imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20) as imap:
    imap.login(address, password)
    for m in messages:
        typ, data = imap.append("INBOX", None, None, m)
        assert typ == "OK", (typ, data)
    imap.logout()

# Passwords only under TLS: USER before STLS is refused, and CAPA does not offer it.
plain = poplib.POP3(host, int(os.environ["HOPTHU_POP3_PORT"]), timeout=20)
caps = plain.capa()
assert "STLS" in caps and "USER" not in caps and "SASL" not in caps, caps
try:
    plain.user(address)
    raise SystemExit("USER accepted without TLS")
except poplib.error_proto as e:
    assert b"TLS" in e.args[0], e
plain.stls(context=ctx)
caps = plain.capa()
assert "USER" in caps and "STLS" not in caps and caps.get("SASL") == ["PLAIN"], caps
try:
    plain.user(address)
    plain.pass_("wrong password")
    raise SystemExit("wrong password accepted")
except poplib.error_proto as e:
    assert b"[AUTH]" in e.args[0], e
plain.user(address)
plain.pass_(password)
count, octets = plain.stat()
assert count == 3 and octets == sum(len(m) for m in messages), (count, octets)
resp, listing, _ = plain.list()
assert [int(l.split()[1]) for l in listing] == [len(m) for m in messages], listing
resp, uidls, _ = plain.uidl()
uids = [l.split()[1] for l in uidls]
assert len(set(uids)) == 3, uids

# RETR returns the stored message byte for byte (poplib undoes the dot-stuffing).
resp, lines, size = plain.retr(1)
assert b"\r\n".join(lines) + b"\r\n" == messages[0], lines
resp, lines, _ = plain.top(2, 1)
assert lines[-1] == "Kính gửi các đồng chí,".encode(), lines
assert any(l.startswith(b"Subject:") for l in lines)

# The maildrop is locked while this session holds it.
pop3s = poplib.POP3_SSL(host, int(os.environ["HOPTHU_POP3S_PORT"]), context=ctx, timeout=20)
try:
    pop3s.user(address)
    pop3s.pass_(password)
    raise SystemExit("second session got the maildrop")
except poplib.error_proto as e:
    assert b"[IN-USE]" in e.args[0], e
pop3s.quit()

plain.dele(1)
try:
    plain.retr(1)
    raise SystemExit("RETR of a deleted message")
except poplib.error_proto:
    pass
plain.rset()
assert plain.stat()[0] == 3
plain.dele(2)
plain.quit()

# POP3S with AUTH PLAIN: the deletion took effect at QUIT, the UIDs of the others stayed.
pop3s = poplib.POP3_SSL(host, int(os.environ["HOPTHU_POP3S_PORT"]), context=ctx, timeout=20)
token = base64.b64encode(b"\0" + address.encode() + b"\0" + password.encode()).decode()
resp = pop3s._shortcmd("AUTH PLAIN " + token)
assert resp.startswith(b"+OK"), resp
assert pop3s.stat()[0] == 2
resp, uidls, _ = pop3s.uidl()
assert [l.split()[1] for l in uidls] == [uids[0], uids[2]], (uidls, uids)
pop3s.quit()

with imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20) as imap:
    imap.login(address, password)
    typ, data = imap.select("INBOX")
    assert data[0] == b"2", data
    imap.logout()
print("OK")
