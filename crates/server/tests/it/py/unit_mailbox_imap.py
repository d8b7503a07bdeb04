"""A unit mailbox seen over IMAP by its delegates and its owner (Đ12, RFC 2342 NAMESPACE,
RFC 4314 ACL), each signed in as themselves.

    python3 unit_mailbox_imap.py --fill UNIT UNIT_PW
    python3 unit_mailbox_imap.py --open UNIT LOGIN PASSWORD
        SELECTs Shared/UNIT/INBOX as LOGIN: prints "opened N" (N messages), or "refused TEXT".
    python3 unit_mailbox_imap.py UNIT READER READER_PW MANAGER MANAGER_PW OWNER OWNER_PW STRANGER STRANGER_PW

The unit's INBOX holds 3 messages when it starts. Asserts as it goes; prints "done".
"""
import sys

from imap_common import imaps, ok, raw

if sys.argv[1] == "--fill":
    # Three messages in the unit's INBOX, appended as the unit before any grant.
    c = imaps(sys.argv[2], sys.argv[3])
    for i in range(1, 4):
        ok(c.append("INBOX", None, None,
                    b"From: a@caobang.gov.vn\r\nSubject: Unit message %d\r\n\r\nBody %d\r\n" % (i, i)))
    c.logout()
    print("filled")
    sys.exit(0)

if sys.argv[1] == "--open":
    c = imaps(sys.argv[3], sys.argv[4])
    typ, data = c.select('"Shared/%s/INBOX"' % sys.argv[2])
    print("opened %s" % data[0].decode() if typ == "OK" else "refused %s" % data[0].decode())
    c.logout()
    sys.exit(0)

(unit, reader, reader_pw, manager, manager_pw, owner, owner_pw,
 stranger, stranger_pw) = sys.argv[1:10]
shared_inbox = "Shared/%s/INBOX" % unit
quoted_inbox = ('"%s"' % shared_inbox).encode()


def no_perm(conn, command):
    tagged, _ = raw(conn, command)
    assert b" NO [NOPERM]" in tagged, (command, tagged)


# The reader: `read` gives lrsw.
c = imaps(reader, reader_pw)
tagged, lines = raw(c, b"NAMESPACE")
assert tagged.endswith(b"OK NAMESPACE completed"), tagged
assert lines == [b'* NAMESPACE (("" "/")) NIL (("Shared/" "/"))'], lines
tagged, lines = raw(c, b'LIST "" "*"')
listed = {line.split(b'"/" ', 1)[1].strip(b'"').decode(): line for line in lines}
assert b"\\Noselect" in listed["Shared"], lines
assert b"\\HasChildren" in listed["Shared"], lines
assert b"\\Noselect" in listed["Shared/" + unit], lines
assert shared_inbox in listed and b"\\Noselect" not in listed[shared_inbox], lines
# The unit's Sent is not the reader's Sent.
assert b"\\Sent" not in listed.get("Shared/%s/Sent" % unit, b""), lines
assert b"\\Sent" in listed["Sent"], lines
tagged, lines = raw(c, b'LIST "" "%"')
assert any(line.endswith(b"Shared") for line in lines), lines
assert not any(unit.encode() in line for line in lines), lines
tagged, lines = raw(c, b"MYRIGHTS " + quoted_inbox)
assert lines == [b"* MYRIGHTS " + quoted_inbox + b" lrsw"], lines
tagged, lines = raw(c, b"MYRIGHTS INBOX")
assert lines == [b'* MYRIGHTS "INBOX" lrswipkxtea'], lines
tagged, lines = raw(c, b"CAPABILITY")
assert b" ACL" in lines[0] and b"RIGHTS=texk" in lines[0], lines

typ, data = c.select(quoted_inbox.decode())
assert typ == "OK" and data == [b"3"], (typ, data)
# RFC 4314 §4: without `t`, \Deleted is not a permanent flag.
permanent = [r for r in c.untagged_responses.get("OK", []) if b"PERMANENTFLAGS" in r]
assert permanent and b"\\Deleted" not in permanent[-1] and b"\\Seen" in permanent[-1], permanent
typ, data = c.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert typ == "OK" and b"Subject: Unit message 1" in data[0][1], data
ok(c.store("1", "+FLAGS", "(\\Seen \\Flagged)"))
no_perm(c, b"STORE 1 +FLAGS (\\Deleted)")
no_perm(c, b"STORE 1 FLAGS (\\Seen)")
no_perm(c, b"EXPUNGE")
no_perm(c, b"UID EXPUNGE 1")
no_perm(c, b"MOVE 1 INBOX")
no_perm(c, b"GETACL " + quoted_inbox)
no_perm(c, b"SETACL " + quoted_inbox + b" " + reader.encode() + b" lrswte")
no_perm(c, b'CREATE "Shared/%s/Reader folder"' % unit.encode())
message = b"Subject: x\r\n\r\nhi\r\n"
tag = c._new_tag()
c.send(tag + b" APPEND " + quoted_inbox + b" {%d}\r\n" % len(message))
line = c.readline()
# APPEND without `i` may be refused before the literal is sent, or after.
if line.startswith(b"+"):
    c.send(message + b"\r\n")
    line = c.readline()
while not line.startswith(tag + b" "):
    line = c.readline()
assert b"NO [NOPERM]" in line, line
# Copying out to one's own INBOX only needs `r` there.
typ, data = c.copy("2", "INBOX")
assert typ == "OK", (typ, data)
typ, data = c.select(quoted_inbox.decode(), readonly=True)
assert data == [b"3"], data
c.logout()

# The manager: `manage` gives lrswipkxte.
c = imaps(manager, manager_pw)
tagged, lines = raw(c, b"MYRIGHTS " + quoted_inbox)
assert lines == [b"* MYRIGHTS " + quoted_inbox + b" lrswipkxte"], lines
typ, data = c.select(quoted_inbox.decode())
assert data == [b"3"], data
permanent = [r for r in c.untagged_responses.get("OK", []) if b"PERMANENTFLAGS" in r]
assert permanent and b"\\Deleted" in permanent[-1], permanent
ok(c.store("3", "+FLAGS", "(\\Deleted)"))
typ, data = c.expunge()
assert typ == "OK" and data == [b"3"], data
ok(c.create('"Shared/%s/Cong van den"' % unit))
tagged, lines = raw(c, b'MOVE 2 "Shared/%s/Cong van den"' % unit.encode())
assert tagged.endswith(b"OK MOVE completed") or b" OK " in tagged, (tagged, lines)
typ, data = c.select(quoted_inbox.decode())
assert data == [b"1"], data
no_perm(c, b"GETACL " + quoted_inbox)
c.logout()

# A stranger sees nothing of it.
c = imaps(stranger, stranger_pw)
tagged, lines = raw(c, b'LIST "" "*"')
assert not any(b"Shared" in line for line in lines), lines
typ, data = c.select(quoted_inbox.decode())
assert typ == "NO", (typ, data)
tagged, _ = raw(c, b"MYRIGHTS " + quoted_inbox)
assert b" NO " in tagged, tagged
c.logout()

# The owner (the unit's head): everything, and the ACL.
c = imaps(owner, owner_pw)
tagged, lines = raw(c, b"MYRIGHTS " + quoted_inbox)
assert lines == [b"* MYRIGHTS " + quoted_inbox + b" lrswipkxtea"], lines
tagged, lines = raw(c, b"GETACL " + quoted_inbox)
assert tagged.endswith(b"OK GETACL completed"), tagged
acl = lines[0].split(b" ", 3)[3].decode()
delegates = sorted([(manager, "lrswipkxte"), (reader, "lrsw")])
assert acl == " ".join(['"%s" lrswipkxtea "%s" lrswipkxtea' % (unit, owner)]
                       + ['"%s" %s' % d for d in delegates]), lines
tagged, lines = raw(c, b"LISTRIGHTS " + quoted_inbox + b" " + reader.encode())
assert lines == [b"* LISTRIGHTS " + quoted_inbox + b' "%s" "" lrsw ipkxte' % reader.encode()], lines
# The reader gets `manage` by adding `t`; the manager loses everything.
tagged, _ = raw(c, b"SETACL " + quoted_inbox + b" " + reader.encode() + b" +te")
assert tagged.endswith(b"OK SETACL completed"), tagged
tagged, _ = raw(c, b"DELETEACL " + quoted_inbox + b" " + manager.encode())
assert tagged.endswith(b"OK DELETEACL completed"), tagged
tagged, _ = raw(c, b"SETACL " + quoted_inbox + b" " + reader.encode() + b" lrswa")
assert b"NO [NOPERM]" in tagged, tagged
tagged, _ = raw(c, b"SETACL " + quoted_inbox + b" anyone lr")
assert b" NO " in tagged, tagged
tagged, _ = raw(c, b"SETACL " + quoted_inbox + b" " + reader.encode() + b" lrz")
assert b" NO " in tagged, tagged
# One's own personal mailbox is not shared.
tagged, _ = raw(c, b"SETACL INBOX " + reader.encode() + b" lr")
assert b"NO [NOPERM]" in tagged, tagged
tagged, lines = raw(c, b"GETACL " + quoted_inbox)
acl = lines[0].split(b" ", 3)[3].decode()
assert acl == '"%s" lrswipkxtea "%s" lrswipkxtea "%s" lrswipkxte' % (unit, owner, reader), lines
tagged, _ = raw(c, b"GETACL")
assert b" BAD " in tagged, tagged
c.logout()

# The manager's rights are gone at once.
c = imaps(manager, manager_pw)
tagged, lines = raw(c, b'LIST "" "Shared/*"')
assert lines == [], lines
typ, data = c.select(quoted_inbox.decode())
assert typ == "NO", (typ, data)
c.logout()
print("done")
