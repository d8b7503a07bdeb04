"""IMAP4rev2 (RFC 9051) beyond ENABLE: UTF-8 mailbox names, no OK [UNSEEN] at SELECT,
subscriptions that outlive their mailbox (\\NonExistent, LSUB \\Noselect, RECURSIVEMATCH with
CHILDINFO), several LIST patterns, SEARCHRES (SAVE and $, RFC 5182) and UNAUTHENTICATE
(RFC 8437). Arguments: address password."""
import re
import sys
import unicodedata

from imap_common import imaps, ok, raw, untagged

user, password = sys.argv[1], sys.argv[2]


def mutf7_decode(name):
    """Modified UTF-7 (RFC 3501 §5.1.3) → str, written here independently of the server."""
    out, i = "", 0
    while i < len(name):
        if name[i:i + 1] == b"&":
            end = name.index(b"-", i)
            chunk = name[i + 1:end]
            out += "&" if not chunk else ("+" + chunk.decode().replace(",", "/") + "-").encode().decode("utf-7")
            i = end + 1
        else:
            out += name[i:i + 1].decode()
            i += 1
    return out


def listed(lines, verb=b"LIST"):
    """{name bytes: (attributes, extended data)} of LIST/LSUB lines."""
    out = {}
    for line in lines:
        m = re.match(rb'\* ' + verb + rb' \(([^)]*)\) (?:"/"|NIL) ("(?:[^"\\]|\\.)*"|[^ ]+)(.*)$', line)
        assert m, line
        name = m.group(2)
        if name.startswith(b'"'):
            name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
        out[name] = (set(m.group(1).decode().split()), m.group(3).strip())
    return out


def must(conn, command, want=b"OK"):
    tagged, lines = raw(conn, command)
    assert tagged.split(b" ")[1] == want, (command, tagged, lines)
    return lines


old = imaps(user, password)          # an IMAP4rev1 client
new = imaps(user, password)          # an IMAP4rev2 client
caps = set(c.upper() for c in ok(new.capability())[0].decode().split())
assert {"IMAP4REV2", "SEARCHRES", "UNAUTHENTICATE", "LIST-EXTENDED", "UTF8=ACCEPT"} <= caps, caps
lines = must(new, b"ENABLE IMAP4rev2")
assert lines == [b"* ENABLED IMAP4rev2"], lines

# 1. Names: modified UTF-7 for IMAP4rev1, UTF-8 once IMAP4rev2 is enabled (RFC 9051 §5.1).
must(old, b'CREATE "C&APQ-ng v&AQM-n/&ARA-&Hr8-n"')          # "Công văn/Đến"
rev2 = listed(must(new, b'LIST "" "*"'))
assert "Công văn/Đến".encode() in rev2 and "Công văn".encode() in rev2, rev2
assert b"C&APQ-ng v&AQM-n" not in rev2, rev2
must(new, 'CREATE "Hồ sơ/2026"'.encode())
must(new, b'CREATE "A&B"')                                   # "&" is itself in rev2
rev1 = listed(must(old, b'LIST "" "*"'))
names = {mutf7_decode(n) for n in rev1}
assert {"Công văn", "Công văn/Đến", "Hồ sơ", "Hồ sơ/2026", "A&B"} <= names, names
assert b"A&-B" in rev1, rev1
# An IMAP4rev1 client may ask for UTF-8 names alone (RFC 9755) and keeps the rest of rev1.
u = imaps(user, password)
assert must(u, b"ENABLE UTF8=ACCEPT") == [b"* ENABLED UTF8=ACCEPT"]
assert "Hồ sơ/2026".encode() in listed(must(u, b'LIST "" "*"'))
lines = must(u, 'SELECT "Công văn/Đến"'.encode())
assert any(l.startswith(b"* 0 RECENT") for l in lines), lines
assert must(new, b"ENABLE UTF8=ACCEPT") == [b"* ENABLED"]     # rev2 already has it
u.logout()
# A decomposed (NFD) name finds the same folder as the composed one.
nfd = unicodedata.normalize("NFD", "Hồ sơ/2026")
assert nfd != "Hồ sơ/2026"
must(new, b'SELECT "' + nfd.encode() + b'"')
lines = must(new, b'CREATE "' + nfd.encode() + b'"', b"NO")
# A new decomposed name is stored composed, and the IMAP4rev2 client is told (OLDNAME).
tai_lieu = unicodedata.normalize("NFD", "Tài liệu")
lines = must(new, b'CREATE "' + tai_lieu.encode() + b'"')
assert lines == [b'* LIST () "/" "' + "Tài liệu".encode() + b'" ("OLDNAME" ("' + tai_lieu.encode() + b'"))'], lines
assert "Tài liệu".encode() in listed(must(new, b'LIST "" "T*"'))
lines = must(new, b'RENAME "' + "Tài liệu".encode() + b'" "' + unicodedata.normalize("NFD", "Tài liệu cũ").encode() + b'"')
assert len(lines) == 1 and b"OLDNAME" in lines[0] and "Tài liệu cũ".encode() in lines[0], lines
assert must(new, b"CREATE Ascii") == []
lines = must(new, 'STATUS "Công văn/Đến" (MESSAGES)'.encode())
assert lines == ['* STATUS "Công văn/Đến" (MESSAGES 0)'.encode()], lines
must(new, 'RENAME "Hồ sơ/2026" "Hồ sơ/Lưu trữ 2026"'.encode())
rev1 = listed(must(old, b'LIST "" "H*"'))
assert {mutf7_decode(n) for n in rev1} == {"Hồ sơ", "Hồ sơ/Lưu trữ 2026"}, rev1
# RFC 9051 §6.3.5: a mailbox with children is not deleted, and the code says why.
tagged, _ = raw(new, 'DELETE "Hồ sơ"'.encode())
assert b"NO [HASCHILDREN]" in tagged, tagged

# 2. SELECT in IMAP4rev2 has no OK [UNSEEN]; IMAP4rev1 still gets it.
for i in range(5):
    subject = ["bao cao thang %d" % i, "giay moi", "bao cao quy", "thong bao", "bao cao nam"][i]
    ok(old.append("INBOX", None, None, ("Subject: %s\r\n\r\nnoi dung %d\r\n" % (subject, i)).encode()))
lines = must(new, b"SELECT INBOX")
assert not any(b"[UNSEEN" in l for l in lines), lines
assert any(l.startswith(b"* LIST ") and l.endswith(b"INBOX") for l in lines), lines
lines = must(old, b"SELECT INBOX")
assert any(l.startswith(b"* OK [UNSEEN 1]") for l in lines), lines

# 3. SEARCHRES: SAVE keeps the result, $ stands for it.
lines = must(new, b"UID SEARCH RETURN (SAVE) SUBJECT bao")
assert lines == [], lines                                   # SAVE alone: no ESEARCH
uids = [int(u) for u in re.findall(rb"UID (\d+)", b" ".join(must(new, b"FETCH 1:* (UID)")))]
bao = [uids[0], uids[2], uids[3], uids[4]]                  # "thong bao" has "bao" too
lines = must(new, b"UID FETCH $ (UID)")
assert sorted(int(u) for u in re.findall(rb"UID (\d+)", b" ".join(lines))) == bao, lines
lines = must(new, b"FETCH $ (FLAGS)")
assert [l.split(b" ")[1] for l in lines] == [b"1", b"3", b"4", b"5"], lines
must(new, b"STORE $ +FLAGS.SILENT (\\Flagged)")
lines = must(new, b"SEARCH FLAGGED")
assert lines[0].endswith(b" ALL 1,3:5"), lines
lines = must(new, b"SEARCH $ SUBJECT cao")                   # $ combined with a criterion
assert lines[0].endswith(b" ALL 1,3,5"), lines
lines = must(new, b"UID SEARCH RETURN (SAVE MIN COUNT) SUBJECT cao")
assert b" MIN %d" % uids[0] in lines[0] and b"COUNT 3" in lines[0], lines
must(new, b"SEARCH RETURN (SAVE MAX) SUBJECT cao")           # MAX alone keeps just the maximum
lines = must(new, b"UID FETCH $ (UID)")
assert re.findall(rb"UID (\d+)", b" ".join(lines)) == [str(uids[4]).encode()], lines
# An expunge elsewhere takes the message out of $.
must(new, b"UID SEARCH RETURN (SAVE) SUBJECT quy")
must(old, b"STORE 3 +FLAGS.SILENT (\\Deleted)")
must(old, b"EXPUNGE")
lines = must(new, b"NOOP")
assert b"* 3 EXPUNGE" in lines, lines
lines = must(new, b"UID FETCH $ (UID)")
assert not any(b"FETCH" in l for l in lines), lines
lines = must(new, b"UID COPY $ Trash")                       # empty: OK, nothing copied
must(new, b"SELECT Trash")
lines = must(new, b"UID FETCH 1:* (UID)")
assert lines == [], lines
# A failed SEARCH ... SAVE empties $; so does leaving the mailbox.
must(new, b"SELECT INBOX")
must(new, b"SEARCH RETURN (SAVE) ALL")
lines = must(new, b"FETCH $ (UID)")
assert len(lines) == 4, lines
tagged, _ = raw(new, b"SEARCH RETURN (SAVE) CHARSET KOI8-R SUBJECT x")
assert b" NO [BADCHARSET" in tagged, tagged
lines = must(new, b"FETCH $ (UID)")
assert lines == [], lines
must(new, b"SEARCH RETURN (SAVE) ALL")
must(new, b"UNSELECT")
must(new, b"SELECT INBOX")
assert must(new, b"FETCH $ (UID)") == []
lines = must(new, b"SEARCH $")
assert not any(b" ALL " in l for l in lines), lines

# 4. Subscriptions are names (RFC 9051 §6.3.7): they outlive their mailbox.
must(new, b'SUBSCRIBE "Chua tao"')                          # no such mailbox yet
must(new, b"CREATE Tam")
must(new, b"DELETE Tam")
sub = listed(must(new, b'LIST (SUBSCRIBED) "" "*"'))
assert sub[b"Chua tao"][0] == {"\\Subscribed", "\\NonExistent"}, sub
assert sub[b"Tam"][0] == {"\\Subscribed", "\\NonExistent"}, sub
# RFC 5258 §5: without RETURN (CHILDREN) an extended LIST has no child attributes.
assert sub[b"INBOX"][0] == {"\\Subscribed"}, sub
plain = listed(must(new, b'LIST "" "*"'))
assert b"Chua tao" not in plain and b"Tam" not in plain, plain
lsub = listed(must(old, b'LSUB "" "*"'), b"LSUB")
assert lsub[b"Chua tao"][0] == {"\\Noselect"} and lsub[b"INBOX"][0] == set(), lsub
# RENAME carries the subscription.
must(new, b"CREATE Cu")
must(new, b"RENAME Cu Moi")
sub = listed(must(new, b'LIST (SUBSCRIBED) "" "*"'))
assert b"Moi" in sub and b"Cu" not in sub, sub
must(new, b'UNSUBSCRIBE "Chua tao"')
must(new, b"UNSUBSCRIBE Tam")
# RECURSIVEMATCH: a parent the pattern reaches stands for a subscribed child it does not.
must(new, b'CREATE "Cha/Con"')
must(new, b"UNSUBSCRIBE Cha")
top = listed(must(new, b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"'))
assert top[b"Cha"] == (set(), b'("CHILDINFO" ("SUBSCRIBED"))'), top
assert top[b"INBOX"][1] == b"", top
top = listed(must(new, b'LIST (SUBSCRIBED) "" "%"'))
assert b"Cha" not in top, top
lsub = listed(must(old, b'LSUB "" "%"'), b"LSUB")
assert lsub[b"Cha"][0] == {"\\Noselect"}, lsub                # RFC 3501 §6.3.9
must(new, b'LIST (RECURSIVEMATCH) "" "%"', b"BAD")
# Several patterns at once (RFC 9051 §6.3.9), with RETURN options.
two = listed(must(new, b'LIST "" (INBOX "Sent" "Cha/%") RETURN (SUBSCRIBED)'))
assert set(two) == {b"INBOX", b"Sent", b"Cha/Con"}, two
assert "\\Subscribed" in two[b"Cha/Con"][0] and "\\Sent" in two[b"Sent"][0], two

# RENAME INBOX (RFC 9051 §6.3.6) moves its messages to a new mailbox and leaves INBOX empty.
must(new, b"CREATE INBOX/Con")
lines = must(new, 'RENAME INBOX "Hộp thư cũ"'.encode())
assert len([l for l in lines if l.endswith(b" EXPUNGE")]) == 4, lines  # the selected INBOX emptied
assert must(new, b"STATUS INBOX (MESSAGES)") == [b"* STATUS INBOX (MESSAGES 0)"]
lines = must(new, 'STATUS "Hộp thư cũ" (MESSAGES)'.encode())
assert lines == ['* STATUS "Hộp thư cũ" (MESSAGES 4)'.encode()], lines
lines = must(old, b"NOOP")
assert len([l for l in lines if l.endswith(b" EXPUNGE")]) == 4, lines
assert b"INBOX/Con" in listed(must(new, b'LIST "" "INBOX*"'))  # children stay

# 5. UNAUTHENTICATE (RFC 8437): back to the start, ENABLE undone, sign in again.
must(new, b"UNAUTHENTICATE")
tagged, _ = raw(new, b"SELECT INBOX")
assert b" BAD " in tagged or b" NO " in tagged, tagged
caps = ok(new.capability())[0].decode().upper()
assert "AUTH=PLAIN" in caps, caps
must(new, ('LOGIN "%s" "%s"' % (user, password)).encode())
again = listed(must(new, b'LIST "" "C*"'))
assert b"C&APQ-ng v&AQM-n" in again, again                   # modified UTF-7 again
must(new, b"SELECT INBOX")

for c in (old, new):
    c.logout()
print("OK")
