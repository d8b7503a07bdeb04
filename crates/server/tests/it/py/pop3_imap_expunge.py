"""POP3 against a concurrent IMAP expunge (RFC 1939 §8: the maildrop as the session saw it).

    pop3_imap_expunge.py ADDRESS PASSWORD

Three messages are appended over IMAP; a POP3S session opens the maildrop; IMAP expunges
message 1 meanwhile. The POP3 session keeps its numbering (STAT 3, UIDL unchanged), answers
RETR 1 with the message or an error but goes on, deletes message 2 at QUIT; then IMAP sees only
message 3, and a new POP3 session sees one message. Prints OK.
"""
import os
import poplib
import sys

from imap_common import imaps, ok, tls_context

address, password = sys.argv[1], sys.argv[2]
host = os.environ["HOPTHU_HOST"]

imap = imaps(address, password)
for i in range(3):
    ok(imap.append("INBOX", None, None,
                   ("From: a@caobang.gov.vn\r\nSubject: Thu so %d\r\n\r\nNoi dung %d\r\n" % (i, i)).encode()))
ok(imap.select("INBOX"))

pop = poplib.POP3_SSL(host, int(os.environ["HOPTHU_POP3S_PORT"]), context=tls_context(), timeout=20)
pop.user(address)
pop.pass_(password)
assert pop.stat()[0] == 3, pop.stat()
uidl_before = pop.uidl()[1]

# IMAP expunges the first message while POP3 has the maildrop open.
ok(imap.store("1", "+FLAGS", r"(\Deleted)"))
ok(imap.expunge())

assert pop.stat()[0] == 3, "POP3 numbering changed under the session"
assert pop.uidl()[1] == uidl_before
try:
    resp = pop.retr(1)
    assert resp[0].startswith(b"+OK"), resp
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR"), e
assert pop.noop().startswith(b"+OK")
lines = pop.retr(3)[1]
assert b"Noi dung 2" in b"\r\n".join(lines), lines
pop.dele(2)
assert pop.quit().startswith(b"+OK")

ok(imap.noop())
typ, data = imap.select("INBOX")
assert typ == "OK" and int(data[0]) == 1, data
typ, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert b"Thu so 2" in data[0][1], data
imap.logout()

again = poplib.POP3_SSL(host, int(os.environ["HOPTHU_POP3S_PORT"]), context=tls_context(), timeout=20)
again.user(address)
again.pass_(password)
assert again.stat()[0] == 1, again.stat()
again.quit()
print("OK")
