"""IMAP conformance, each part from its RFC's text and examples: SORT keys (RFC 5256 §2.1 base
subject, §3 address keys; RFC 5957 DISPLAYFROM), \\Recent kept by the store (RFC 3501
§2.3.2, across a restart: phase `before` then `after`), new keywords announced in FLAGS
before a FETCH shows them (§7.2.6) and NIL refused as a flag list, BINARY partials with
their origin (RFC 3516 §4.2), ENVELOPE groups (RFC 3501 §7.4.2), BODY[n.TEXT] of an
encapsulated multipart with its epilogue, LIST-EXTENDED (RFC 5258 §3, §5's hierarchies)
and MOVE into the selected mailbox (RFC 6851). Arguments: address password phase."""
import base64
import re
import sys

from imap_common import Parser, fetch_items, flatten, imaps, ok, raw, untagged

user, password, phase = sys.argv[1], sys.argv[2], sys.argv[3]


def must(conn, command, want=b"OK"):
    tagged, lines = raw(conn, command)
    assert tagged.split(b" ")[1] == want, (command, tagged, lines)
    return lines


def append(conn, mailbox, message, flags=None):
    ok(conn.append(mailbox, flags, None, message))


def recent(conn):
    return untagged(conn, "RECENT")


if phase == "after":
    # Restarted: the marks were kept by the store. Nothing is recent any more...
    a = imaps(user, password)
    ok(a.select("Moi"))
    assert recent(a) == [b"0"], a.untagged_responses
    assert ok(a.search(None, "RECENT")) == [b""]
    assert b"RECENT 0" in ok(a.status("Moi", "(RECENT)"))[0]
    # ...and what arrives now is recent in exactly one session.
    b = imaps(user, password)
    append(b, "Moi", b"Subject: sau khi khoi dong lai\r\n\r\nx\r\n")
    assert b"RECENT 1" in ok(b.status("Moi", "(MESSAGES RECENT)"))[0]
    ok(a.noop())
    assert recent(a) == [b"1"], a.untagged_responses
    assert ok(a.search(None, "RECENT")) == [b"4"]
    ok(b.select("Moi"))
    assert recent(b) == [b"0"], b.untagged_responses
    print("OK")
    sys.exit(0)

assert phase == "before", phase
a = imaps(user, password)
b = imaps(user, password)

# ---- 1. SORT (RFC 5256) -------------------------------------------------------------------
ok(a.create("Sap"))
for frm, to, cc, subject in [
    ('"Zed Zulu" <alpha@x.vn>', '"Alpha" <zulu@y.vn>', "charlie@z.vn", "Re: [tag] Banana (fwd)"),
    ('"Alpha Able" <zoe@x.vn>', "bravo@y.vn, alpha@y.vn", '"Aaa" <yankee@z.vn>', "apple"),
    ("mike@x.vn", '"Zz" <mike@y.vn>', None, "Fwd: [fwd: cherry]"),
    ('"Mike" <ALPHA@x.vn>', "Alpha@y.vn", "Bob <bob@z.vn>", "[list] Re: apple"),
]:
    head = "From: %s\r\nTo: %s\r\n" % (frm, to)
    if cc:
        head += "Cc: %s\r\n" % cc
    append(a, "Sap", (head + "Subject: %s\r\n\r\nx\r\n" % subject).encode())
ok(a.select("Sap"))


def sort(criteria):
    return ok(a.sort(criteria, "UTF-8", "ALL"))[0].split()


# §3: FROM/TO/CC compare the addr-mailbox (local part) of the first address, not the name,
# case-insensitively; equal keys go by sequence number, REVERSE or not.
assert sort("(FROM)") == [b"1", b"4", b"3", b"2"], sort("(FROM)")
assert sort("(REVERSE FROM)") == [b"2", b"3", b"1", b"4"], sort("(REVERSE FROM)")
assert sort("(TO)") == [b"4", b"2", b"3", b"1"], sort("(TO)")
assert sort("(REVERSE TO)") == [b"1", b"3", b"2", b"4"], sort("(REVERSE TO)")
# No Cc at all is the empty string, first.
assert sort("(CC)") == [b"3", b"4", b"1", b"2"], sort("(CC)")
assert sort("(REVERSE CC)") == [b"2", b"1", b"4", b"3"], sort("(REVERSE CC)")
# §2.1: "re: [tag] banana (fwd)" → "banana"; "fwd: [fwd: cherry]" → "cherry";
# "[list] re: apple" → "apple", tied with 2 and after it.
assert sort("(SUBJECT)") == [b"2", b"4", b"1", b"3"], sort("(SUBJECT)")
assert sort("(REVERSE SUBJECT)") == [b"3", b"1", b"2", b"4"], sort("(REVERSE SUBJECT)")
assert sort("(SUBJECT REVERSE FROM)") == [b"2", b"4", b"1", b"3"], sort("(SUBJECT REVERSE FROM)")
# RFC 5957: DISPLAYFROM is the display name, or the address without one.
assert sort("(DISPLAYFROM)") == [b"2", b"4", b"3", b"1"], sort("(DISPLAYFROM)")
assert sort("(DISPLAYTO)") == [b"1", b"4", b"2", b"3"], sort("(DISPLAYTO)")
uids = ok(a.uid("SORT", "(FROM)", "UTF-8", "ALL"))[0].split()
assert uids == [b"1", b"4", b"3", b"2"], uids

# ---- 2. \Recent (RFC 3501 §2.3.2, §6.3.1, §6.3.2, §6.3.10, §6.4.4) --------------------------
ok(a.create("Moi"))
append(b, "Moi", b"Subject: mot\r\n\r\n1\r\n")
append(b, "Moi", b"Subject: hai\r\n\r\n2\r\n")
# Nobody selected it yet: both are recent for STATUS, and EXAMINE does not take them.
assert b"RECENT 2" in ok(b.status("Moi", "(RECENT)"))[0]
ok(b.select("Moi", readonly=True))
assert recent(b) == [b"2"], b.untagged_responses
ok(b.unselect())
assert b"RECENT 2" in ok(a.status("Moi", "(RECENT)"))[0]
ok(a.select("Moi"))
assert recent(a) == [b"2"], a.untagged_responses
assert b"\\Recent" in flatten(ok(a.fetch("1", "(FLAGS)")))
ok(a.store("1", "+FLAGS", "(\\Seen)"))
assert ok(a.search(None, "RECENT")) == [b"1 2"]
assert ok(a.search(None, "NEW")) == [b"2"]          # recent and not seen
assert ok(a.search(None, "OLD")) == [b""]
# SELECT took them: another session sees none.
ok(b.select("Moi"))
assert recent(b) == [b"0"], b.untagged_responses
assert ok(b.search(None, "RECENT")) == [b""]
assert ok(b.search(None, "OLD")) == [b"1 2"]
assert b"\\Recent" not in flatten(ok(b.fetch("1:2", "(FLAGS)")))
assert b"RECENT 0" in ok(b.status("Moi", "(RECENT)"))[0]
# A third arrives while both have it selected: the first to hear of it takes it.
c = imaps(user, password)
append(c, "Moi", b"Subject: ba\r\n\r\n3\r\n")
assert b"RECENT 1" in ok(c.status("Moi", "(RECENT)"))[0]
ok(a.noop())
assert recent(a) == [b"3"], a.untagged_responses
ok(b.noop())
assert recent(b) == [b"0"], b.untagged_responses
assert b"\\Recent" in flatten(ok(a.fetch("3", "(FLAGS)")))
assert b"\\Recent" not in flatten(ok(b.fetch("3", "(FLAGS)")))
assert b"RECENT 0" in ok(c.status("Moi", "(RECENT)"))[0]
ok(b.unselect())

# ---- 3. New keywords (RFC 3501 §7.2.6, §6.4.6) and NIL as a flag list ----------------------
ok(a.create("Nhan"))
append(a, "Nhan", b"Subject: k\r\n\r\nk\r\n")
ok(a.select("Nhan"))
ok(b.select("Nhan"))
lines = must(a, b"STORE 1 +FLAGS ($Khan)")
flags_at = next(i for i, l in enumerate(lines) if l.startswith(b"* FLAGS ("))
perm_at = next(i for i, l in enumerate(lines) if l.startswith(b"* OK [PERMANENTFLAGS ("))
fetch_at = next(i for i, l in enumerate(lines) if b" FETCH " in l)
assert b"$Khan" in lines[flags_at] and b"$Khan" in lines[perm_at], lines
assert b"\\*" in lines[perm_at], lines
assert flags_at < fetch_at and perm_at < fetch_at and b"$Khan" in lines[fetch_at], lines
# The other session hears of the keyword before the FETCH that shows it.
lines = must(b, b"NOOP")
flags_at = next(i for i, l in enumerate(lines) if l.startswith(b"* FLAGS ("))
fetch_at = next(i for i, l in enumerate(lines) if b" FETCH " in l)
assert b"$Khan" in lines[flags_at] and flags_at < fetch_at and b"$Khan" in lines[fetch_at], lines
# Once announced, not again.
lines = must(a, b"STORE 1 -FLAGS ($Khan)")
assert not any(l.startswith(b"* FLAGS") for l in lines), lines
# APPEND with a keyword new to the mailbox: FLAGS reaches both sessions.
body = b"Subject: k2\r\n\r\nk\r\n"
tagged, lines = raw(a, b"APPEND Nhan ($Sau) {%d+}\r\n" % len(body) + body)
assert b" OK " in tagged, tagged
assert any(l.startswith(b"* FLAGS (") and b"$Sau" in l for l in lines), lines
lines = must(b, b"NOOP")
assert any(l.startswith(b"* FLAGS (") and b"$Sau" in l for l in lines), lines
lines = must(b, b"FETCH 2 (FLAGS)")
assert b"$Sau" in lines[0], lines
# RFC 3501 §9: flag-list = "(" [flag *(SP flag)] ")"; NIL is none, and no keyword NIL is made.
must(a, b"STORE 1 +FLAGS NIL", b"BAD")
must(a, b"STORE 1 FLAGS.SILENT NIL", b"BAD")
tagged, _ = raw(a, b"APPEND Nhan NIL {%d+}\r\n" % len(body) + body)
assert b" BAD " in tagged, tagged
lines = must(a, b"FETCH 1:* (FLAGS)")
assert len(lines) == 2 and not any(b"NIL" in l for l in lines), lines
lines = must(a, b"SELECT Nhan")
assert not any(b"NIL" in l for l in lines if l.startswith(b"* FLAGS")), lines
ok(b.unselect())

# ---- 4. BINARY partial (RFC 3516 §4.2) ------------------------------------------------------
ok(a.create("NhiPhan"))
payload = b"Hello, binary world\x01\x02"
parts = b"".join(
    b"--p\r\nContent-Type: text/plain\r\n\r\nphan %d\r\n" % n for n in range(1, 5))
message = (b"Subject: bin\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n"
           + parts + b"--p\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n"
           + base64.b64encode(payload) + b"\r\n--p--\r\n")
append(a, "NhiPhan", message)
ok(a.select("NhiPhan"))
data = ok(a.fetch("1", "(BINARY.PEEK[5]<0.7>)"))
assert re.search(rb"BINARY\[5\]<0> \{7\}$", data[0][0]), data
assert data[0][1] == payload[:7], data
data = ok(a.fetch("1", "(BINARY.PEEK[5]<7.6>)"))
assert re.search(rb"BINARY\[5\]<7> \{6\}$", data[0][0]) and data[0][1] == b"binary", data
# Beyond the end: the origin, and nothing.
data = flatten(ok(a.fetch("1", "(BINARY.PEEK[5]<100.5>)")))
assert b'BINARY[5]<100> ""' in data, data
data = flatten(ok(a.fetch("1", "(BINARY.SIZE[5] BINARY.PEEK[1]<0.4> UID)")))
assert b"BINARY.SIZE[5] %d" % len(payload) in data, data
assert b"BINARY[1]<0> {4}\r\nphan" in data and b"UID 1" in data, data
assert b"\\Seen" not in flatten(ok(a.fetch("1", "(FLAGS)")))

# ---- 5. ENVELOPE groups (RFC 3501 §7.4.2) ---------------------------------------------------
ok(a.create("Nhom"))
append(a, "Nhom", b"From: a@x.vn\r\nTo: undisclosed: a@b.vn, \"C D\" <c@d.vn>;\r\n"
                  b"Cc: undisclosed-recipients:;\r\nBcc: Friends: Joe;, e@f.vn\r\n"
                  b"Subject: nhom\r\n\r\nx\r\n")
ok(a.select("Nhom"))
envelope = fetch_items(ok(a.fetch("1", "(ENVELOPE)")))[b"ENVELOPE"]
to, cc, bcc = envelope[5], envelope[6], envelope[7]
start = lambda name: [None, None, name, None]
end = [None, None, None, None]
assert to == [start(b"undisclosed"), [None, None, b"a", b"b.vn"], [b"C D", None, b"c", b"d.vn"],
              end], to
assert cc == [start(b"undisclosed-recipients"), end], cc
# A malformed member ("Joe", no address) is no address: nothing is made up for it.
assert bcc == [start(b"Friends"), end, [None, None, b"e", b"f.vn"]], bcc

# ---- 6. BODY[n.TEXT] of an encapsulated multipart keeps its epilogue ------------------------
inner = (b"From: b@x.vn\r\nSubject: ben trong\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/alternative; boundary=in\r\n\r\n"
         b"preamble\r\n--in\r\nContent-Type: text/plain\r\n\r\nmot\r\n"
         b"--in\r\nContent-Type: text/html\r\n\r\n<p>hai</p>\r\n--in--\r\nepilogue text\r\n")
outer = (b"From: a@x.vn\r\nSubject: boc\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=out\r\n\r\n"
         b"--out\r\nContent-Type: text/plain\r\n\r\nthu\r\n"
         b"--out\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--out--\r\n")
append(a, "Nhom", outer)
ok(a.select("Nhom"))
# Raw slicing: part 2's body runs to the CRLF before the closing delimiter (RFC 2046 §5.1.1).
start_at = outer.index(b"message/rfc822\r\n\r\n") + len(b"message/rfc822\r\n\r\n")
body2 = outer[start_at:outer.index(b"\r\n--out--")]
text2 = body2[body2.index(b"\r\n\r\n") + 4:]
assert text2.endswith(b"--in--\r\nepilogue text\r\n"), text2
items = fetch_items(ok(a.fetch("2", "(BODY.PEEK[2] BODY.PEEK[2.TEXT] BODY.PEEK[2.HEADER])")))
assert items[b"BODY[2]"] == body2, items
assert items[b"BODY[2.TEXT]"] == text2, items
assert items[b"BODY[2.HEADER]"] == body2[:len(body2) - len(text2)], items
# A message that is itself message/rfc822: part 1 is the encapsulated message, whole.
whole = b"From: a@x.vn\r\nSubject: chuyen tiep\r\nContent-Type: message/rfc822\r\n\r\n" + inner
append(a, "Nhom", whole)
ok(a.select("Nhom"))
items = fetch_items(ok(a.fetch("3", "(BODY.PEEK[1] BODY.PEEK[1.TEXT])")))
assert items[b"BODY[1]"] == inner, items
assert items[b"BODY[1.TEXT]"] == inner[inner.index(b"\r\n\r\n") + 4:], items

# ---- 7. LIST-EXTENDED (RFC 5258) -------------------------------------------------------------
# §3: RECURSIVEMATCH without SUBSCRIBED is BAD, whatever the pattern.
for command in [b'LIST (RECURSIVEMATCH) "" ""', b'LIST (RECURSIVEMATCH) "" "*"',
                b'LIST (REMOTE RECURSIVEMATCH) "" "%"', b'LIST (SPECIAL-USE RECURSIVEMATCH) "" "*"',
                b'LIST (RECURSIVEMATCH) "" ("INBOX" "")']:
    must(a, command, b"BAD")


def listed(lines):
    """{name: (attributes, extended data)}; every line must be a LIST response."""
    out = {}
    for line in lines:
        m = re.match(rb'\* LIST \(([^)]*)\) "/" ("(?:[^"\\]|\\.)*"|[^ ]+)(.*)$', line)
        assert m, line
        name = m.group(2).strip(b'"').decode()
        out[name] = (set(m.group(1).decode().split()), m.group(3).strip().decode())
    return out


# §5's first hierarchy, under "V/" (the account has its own folders besides).
for name in ["Fruit/Apple", "Fruit/Banana", "Tofu", "Vegetable/Broccoli", "Vegetable/Corn"]:
    ok(a.create("V/" + name))
for name in ["", "/Fruit", "/Fruit/Apple", "/Tofu", "/Vegetable/Corn"]:
    ok(a.unsubscribe("V" + name))
ok(a.subscribe("V/Fruit/Peach"))                 # subscribed, no such mailbox
CHILDINFO = '("CHILDINFO" ("SUBSCRIBED"))'
got = listed(must(a, b'LIST (SUBSCRIBED) "V/" "*"'))
assert got == {
    "V/Fruit/Banana": ({"\\Subscribed"}, ""),
    "V/Fruit/Peach": ({"\\Subscribed", "\\NonExistent"}, ""),
    "V/Vegetable": ({"\\Subscribed"}, ""),
    "V/Vegetable/Broccoli": ({"\\Subscribed"}, ""),
}, got
got = listed(must(a, b'LIST () "V/" "%" RETURN (CHILDREN)'))
assert got == {
    "V/Fruit": ({"\\HasChildren"}, ""),
    "V/Tofu": ({"\\HasNoChildren"}, ""),
    "V/Vegetable": ({"\\HasChildren"}, ""),
}, got
got = listed(must(a, b'LIST "V/" "%" RETURN (CHILDREN SUBSCRIBED)'))
assert got == {
    "V/Fruit": ({"\\HasChildren"}, ""),
    "V/Tofu": ({"\\HasNoChildren"}, ""),
    "V/Vegetable": ({"\\HasChildren", "\\Subscribed"}, ""),
}, got
got = listed(must(a, b'LIST (SUBSCRIBED RECURSIVEMATCH) "V/" "%"'))
assert got == {
    "V/Fruit": (set(), CHILDINFO),
    "V/Vegetable": ({"\\Subscribed"}, CHILDINFO),
}, got
got = listed(must(a, b'LIST (SUBSCRIBED RECURSIVEMATCH) "V/" "%" RETURN (CHILDREN)'))
assert got == {
    "V/Fruit": ({"\\HasChildren"}, CHILDINFO),
    "V/Vegetable": ({"\\Subscribed", "\\HasChildren"}, CHILDINFO),
}, got
# The empty pattern with options still names the root, and a plain LIST keeps its attributes.
assert must(a, b'LIST (SUBSCRIBED) "" ""') == [b'* LIST (\\Noselect) "/" ""']
got = listed(must(a, b'LIST "V/" "%"'))
assert got["V/Fruit"] == ({"\\HasChildren"}, ""), got

# §5's "*2" hierarchy, under "W/".
for name in ["foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222", "eps2/mamba",
             "qux2/bar2"]:
    ok(a.create("W/" + name))
for name in ["", "/foo2", "/baz2", "/qux2"]:
    ok(a.unsubscribe("W" + name))
got = listed(must(a, b'LIST (RECURSIVEMATCH SUBSCRIBED) "W/" "*2"'))
assert got == {
    "W/foo2": (set(), CHILDINFO),
    "W/foo2/bar2": ({"\\Subscribed"}, ""),
    "W/baz2/bar2": ({"\\Subscribed"}, ""),
    "W/baz2/bar22": ({"\\Subscribed"}, ""),
    "W/baz2/bar222": ({"\\Subscribed"}, ""),
    "W/eps2": ({"\\Subscribed"}, CHILDINFO),
    "W/qux2/bar2": ({"\\Subscribed"}, ""),
}, got
got = listed(must(a, b'LIST (RECURSIVEMATCH SUBSCRIBED) "W/" "%"'))
assert got == {
    "W/foo2": (set(), CHILDINFO),
    "W/baz2": (set(), CHILDINFO),
    "W/eps2": ({"\\Subscribed"}, CHILDINFO),
    "W/qux2": (set(), CHILDINFO),
}, got

# ---- 8. MOVE into the selected mailbox (RFC 6851) -------------------------------------------
ok(a.create("Chuyen"))
for n in range(3):
    append(a, "Chuyen", b"Subject: chuyen %d\r\n\r\nx\r\n" % n)
ok(a.select("Chuyen"))
ok(b.select("Chuyen"))
validity = untagged(a, "UIDVALIDITY")[-1]
lines = must(a, b"UID MOVE 1:2 Chuyen")
assert lines[0] == b"* OK [COPYUID %s 1:2 4:5] Moved" % validity, lines


def expunged(lines):
    """The EXPUNGE responses; sequence numbers 1 and 2 go as "2, 1" or "1, 1"."""
    found = [l for l in lines if l.endswith(b" EXPUNGE")]
    assert found in ([b"* 2 EXPUNGE", b"* 1 EXPUNGE"], [b"* 1 EXPUNGE", b"* 1 EXPUNGE"]), lines
    return found


expunged(lines[1:3])
assert b"* 3 EXISTS" in lines, lines
assert ok(a.uid("SEARCH", None, "ALL")) == [b"3 4 5"]
subjects = flatten(ok(a.fetch("1:3", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")))
assert re.findall(rb"chuyen (\d)", subjects) == [b"2", b"0", b"1"], subjects
lines = must(b, b"NOOP")
expunged(lines)
assert b"* 3 EXISTS" in lines, lines
lines = must(a, b"MOVE 1 Chuyen")
assert lines[0] == b"* OK [COPYUID %s 3 6] Moved" % validity, lines
assert ok(a.uid("SEARCH", None, "ALL")) == [b"4 5 6"]

# For the restart phase: "Moi" has UIDs 1-3, all claimed as recent by now.
for conn in (a, b, c):
    conn.logout()
print("OK")
