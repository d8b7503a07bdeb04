"""The rest of the capability list: non-synchronising literals (LITERAL+, RFC 7888),
CREATE-SPECIAL-USE (RFC 6154 §3), \\Recent in exactly one session (RFC 3501 §2.3.2), and
ENABLE IMAP4rev2 (RFC 9051). Arguments: address password."""
import re
import sys

from imap_common import imaps, ok, raw, untagged

user, password = sys.argv[1], sys.argv[2]
a = imaps(user, password)

caps = set(c.upper() for c in ok(a.capability())[0].decode().split())
assert {"IMAP4REV1", "IMAP4REV2", "LITERAL+", "CREATE-SPECIAL-USE", "SPECIAL-USE", "BINARY",
        "STATUS=SIZE"} <= caps, caps
# RFC 7888 §5: LITERAL+ already allows every non-synchronising literal; never both.
assert "LITERAL-" not in caps, caps


# 1. A non-synchronising literal above LITERAL-'s 4096 octets is fine with LITERAL+.
body = b"Subject: lon\r\n\r\n" + b"x" * 6000 + b"\r\n"
tagged, _ = raw(a, b"APPEND INBOX {%d+}\r\n" % len(body) + body)
assert b" OK " in tagged, tagged
# ...and one above APPENDLIMIT is refused with TOOBIG after its octets were read.
limit = next(int(c.split("=")[1]) for c in caps if c.startswith("APPENDLIMIT="))
tagged, _ = raw(a, b"APPEND INBOX {%d+}\r\n" % (limit + 1) + b"y" * (limit + 1))
assert b" NO [TOOBIG]" in tagged, tagged
ok(a.noop())

# 2. CREATE-SPECIAL-USE.
tagged, _ = raw(a, b'CREATE "Nhap rieng" (USE (\\Drafts))')
assert b" OK " in tagged, tagged
tagged, _ = raw(a, b'CREATE Khac (USE (\\Important))')
assert b" NO [USEATTR]" in tagged, tagged
tagged, _ = raw(a, b'CREATE Hai (USE (\\Sent \\Trash))')
assert b" NO [USEATTR]" in tagged, tagged
names = {}
for line in ok(a.list('""', "*")):
    m = re.match(rb'\(([^)]*)\) "/" (.*)$', line)
    names[m.group(2).strip(b'"').decode()] = set(m.group(1).decode().split())
assert "\\Drafts" in names["Nhap rieng"], names
assert "Khac" not in names and "Hai" not in names, names
typ, _ = a._simple_command("LIST", "(SPECIAL-USE)", '""', '"Nhap rieng"')
assert typ == "OK"
assert any(b"Nhap rieng" in l for l in a.response("LIST")[1] if l)

# 3. \Recent: the first session to select after arrival gets it, no other.
x = imaps(user, password)
ok(x.append("INBOX", None, None, b"Subject: moi 2\r\n\r\nhai\r\n"))
# EXAMINE looks without taking: 2 recent (the long one and "moi 2").
ok(x.select("INBOX", readonly=True))
assert untagged(x, "RECENT") == [b"2"], x.untagged_responses
status = ok(x.status("INBOX", "(MESSAGES RECENT)"))[0]
assert b"RECENT 2" in status, status
ok(x.unselect())
ok(a.select("INBOX"))
assert untagged(a, "RECENT") == [b"2"], a.untagged_responses
assert ok(a.search(None, "RECENT")) == [b"1 2"]
assert ok(a.search(None, "NEW")) == [b"1 2"]
assert ok(a.search(None, "OLD")) == [b""]
data = ok(a.fetch("1:2", "(FLAGS)"))
assert all(b"\\Recent" in d for d in data if d), data
# Another session selecting now sees nothing recent.
ok(x.select("INBOX"))
assert untagged(x, "RECENT") == [b"0"], x.untagged_responses
assert ok(x.search(None, "RECENT")) == [b""]
data = ok(x.fetch("1:2", "(FLAGS)"))
assert not any(b"\\Recent" in d for d in data if d), data
status = ok(x.status("INBOX", "(RECENT)"))[0]
assert b"RECENT 0" in status, status
# New mail while both are selected: recent for exactly one of them.
a.untagged_responses.clear()
x.untagged_responses.clear()
y = imaps(user, password)
ok(y.append("INBOX", None, None, b"Subject: moi 3\r\n\r\nba\r\n"))
ok(a.noop())
ok(x.noop())
ea, ex = untagged(a, "EXISTS"), untagged(x, "EXISTS")
assert ea == [b"3"] and ex == [b"3"], (ea, ex, x.untagged_responses)
ra, rx = untagged(a, "RECENT"), untagged(x, "RECENT")
# A asked first: "moi 3" is A's (now 3 recent), X gets a new count of 0.
assert ra == [b"3"] and rx == [b"0"], (ra, rx)
owner, other = a, x
assert ok(a.search(None, "RECENT")) == [b"1 2 3"]
assert ok(x.search(None, "RECENT")) == [b""]
assert b"\\Recent" in ok(owner.fetch("3", "(FLAGS)"))[0]
assert b"\\Recent" not in ok(other.fetch("3", "(FLAGS)"))[0]

# 4. ENABLE IMAP4rev2: no \Recent and no RECENT from then on.
r = imaps(user, password)
typ, data = r._simple_command("ENABLE", "IMAP4rev2")
assert typ == "OK", data
assert [d.upper() for d in untagged(r, "ENABLED")] == [b"IMAP4REV2"], r.untagged_responses
ok(y.append("INBOX", None, None, b"Subject: moi 4\r\n\r\nbon\r\n"))
ok(r.select("INBOX"))
assert untagged(r, "RECENT") == [], r.untagged_responses
# RFC 9051 §6.3.2: SELECT lists the mailbox too.
assert [l for l in untagged(r, "LIST") if l.endswith(b"INBOX")], r.untagged_responses
data = ok(r.fetch("1:*", "(FLAGS)"))
assert not any(b"\\Recent" in d for d in data if d), data
r.untagged_responses.clear()
ok(y.append("INBOX", None, None, b"Subject: moi 5\r\n\r\nnam\r\n"))
ok(r.noop())
assert untagged(r, "EXISTS") == [b"5"] and untagged(r, "RECENT") == [], r.untagged_responses
# SEARCH answers as ESEARCH (RFC 9051 §6.4.4), plain or UID.
tagged, lines = raw(r, b"SEARCH SUBJECT moi")
assert b" OK " in tagged and any(l.startswith(b"* ESEARCH (TAG ") and l.endswith(b" ALL 2:5") for l in lines), lines
assert not any(l.startswith(b"* SEARCH") for l in lines), lines
tagged, lines = raw(r, b"UID SEARCH SUBJECT moi")
assert any(b" UID ALL " in l for l in lines), lines
# STATUS SIZE and DELETED.
sizes = sum(int(x) for x in re.findall(rb"RFC822.SIZE (\d+)", b" ".join(
    d if isinstance(d, bytes) else d[0] for d in ok(r.fetch("1:*", "(RFC822.SIZE)")))))
status = ok(r.status("INBOX", "(SIZE DELETED MESSAGES)"))[0]
assert b"SIZE %d" % sizes in status and b"DELETED 0" in status and b"MESSAGES 5" in status, (status, sizes)
# The rev2 session claimed nothing: "moi 4" and "moi 5" are still recent for a rev1 session.
z = imaps(user, password)
ok(z.select("INBOX"))
assert untagged(z, "RECENT") == [b"2"], z.untagged_responses

# 5. BINARY (RFC 3516): parts with their transfer encoding undone.
import base64
pdf = bytes(range(256)) * 4
mime = (b"Subject: nhi phan\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"C=C3=B4ng v=C4=83n\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(pdf).replace(b"\n", b"\r\n") +
        b"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
        b"begin 644 x\r\nend\r\n--b--\r\n")
ok(z.append("INBOX", None, None, mime))
n = ok(z.select("INBOX"))[0].decode()
data = ok(z.fetch(n, "(BINARY.PEEK[1] BINARY.SIZE[2])"))
assert data[0][1] == "Công văn".encode("utf-8"), data
assert b"BINARY.SIZE[2] %d" % len(pdf) in b"".join(d if isinstance(d, bytes) else d[0] for d in data), data
data = ok(z.fetch(n, "(BINARY.PEEK[2])"))
assert data[0][1] == pdf and b"~{%d}" % len(pdf) in data[0][0], data[0][0]
assert b"\\Seen" not in ok(z.fetch(n, "(FLAGS)"))[0]
typ, data = z.fetch(n, "(BINARY[3])")
assert typ == "NO" and b"UNKNOWN-CTE" in data[0], (typ, data)
# APPEND takes a literal8 (RFC 3516 §4.4), NUL octets included.
eight = b"Subject: \x00\r\n\r\nx\x00y\r\n"
tagged, _ = raw(z, b"APPEND INBOX ~{%d+}\r\n" % len(eight) + eight)
assert b" OK " in tagged, tagged
# BINARY without PEEK sets \Seen like BODY[].
ok(z.fetch(n, "(BINARY[1])"))
assert b"\\Seen" in ok(z.fetch(n, "(FLAGS)"))[0]

for c in (a, x, y, r, z):
    c.logout()
print("OK")
