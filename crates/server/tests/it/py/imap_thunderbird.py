"""A session shaped like Thunderbird's (ID, ENABLE QRESYNC, LIST-STATUS, SELECT with QRESYNC,
CONDSTORE fetches with CHANGEDSINCE, UID FETCH of headers, IDLE), and a second session whose
changes the first must see under QRESYNC: flag changes as FETCH with MODSEQ, expunges as
VANISHED (never EXPUNGE), new mail as EXISTS. Also STORE UNCHANGEDSINCE with [MODIFIED], SEARCH
MODSEQ, ESEARCH, GETQUOTAROOT and an atomic MOVE. Arguments: address password."""
import imaplib
import re
import sys

from imap_common import idle_done, idle_start, imaps, ok, read_until, untagged

user, password = sys.argv[1], sys.argv[2]
a = imaps(user, password)
b = imaps(user, password)


def command(conn, name, *args):
    """Sends a command imaplib has no method for; returns (status, data)."""
    imaplib.Commands.setdefault(name, ("NONAUTH", "AUTH", "SELECTED"))
    return conn._simple_command(name, *args)


def select(conn, *args):
    """SELECT with parameters imaplib cannot send; imaplib is told the state changed."""
    result = command(conn, "SELECT", *args)
    if result[0] == "OK":
        conn.state = "SELECTED"
    return result


def tagged_text(conn, name, *args):
    typ, data = command(conn, name, *args)
    return typ, b" ".join(d for d in data if isinstance(d, bytes))


caps = a.capabilities
for cap in ("CONDSTORE", "QRESYNC", "ESEARCH", "LIST-STATUS", "QUOTA", "MOVE", "UIDPLUS", "ENABLE", "ID"):
    assert cap in caps, (cap, caps)

# ID, as Thunderbird sends it.
ok(command(a, "ID", '("name" "Thunderbird" "version" "128.5.0")'))
assert untagged(a, "ID"), a.untagged_responses

for i in range(1, 6):
    raw = ("From: =?UTF-8?B?TsO0bmcgVsSDbiDEkOG6oXQ=?= <datnv@caobang.gov.vn>\r\n"
           "Subject: thu %d\r\nMessage-ID: <%d@caobang.gov.vn>\r\n\r\nNoi dung %d\r\n" % (i, i, i))
    ok(a.append("INBOX", None, None, raw.encode()))

# ENABLE QRESYNC (which implies CONDSTORE).
ok(command(a, "ENABLE", "QRESYNC"))
enabled = untagged(a, "ENABLED")
assert enabled and b"QRESYNC" in enabled[0], enabled

# LIST-STATUS: one round trip for the folder pane.
ok(command(a, "LIST", '""', '"*"', "RETURN", "(SPECIAL-USE STATUS (MESSAGES UNSEEN UIDNEXT HIGHESTMODSEQ))"))
lists = untagged(a, "LIST")
statuses = untagged(a, "STATUS")
assert any(b"INBOX" in l for l in lists), lists
inbox_status = [s for s in statuses if s.startswith(b"INBOX ")]
assert inbox_status and b"MESSAGES 5" in inbox_status[0] and b"UNSEEN 5" in inbox_status[0], statuses
assert len(statuses) == len(lists), (lists, statuses)

# SELECT with CONDSTORE: HIGHESTMODSEQ, UIDVALIDITY.
ok(select(a, "INBOX", "(CONDSTORE)"))
uidvalidity = int(untagged(a, "UIDVALIDITY")[0])
modseq0 = int(untagged(a, "HIGHESTMODSEQ")[0])
assert untagged(a, "EXISTS") == [b"5"]

# CONDSTORE fetch: every message carries its MODSEQ; CHANGEDSINCE the current modseq: none.
ok(command(a, "UID", "FETCH", "1:*", "(UID FLAGS)", "(CHANGEDSINCE 1)"))
fetches = untagged(a, "FETCH")
assert len(fetches) == 5 and all(b"MODSEQ (" in f for f in fetches), fetches
ok(command(a, "UID", "FETCH", "1:*", "(UID FLAGS)", "(CHANGEDSINCE %d)" % modseq0))
assert untagged(a, "FETCH") == [], a.untagged_responses
# Thunderbird's header fetch.
typ, data = a.uid("FETCH", "1:*", "(UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID)])")
assert typ == "OK" and sum(1 for d in data if isinstance(d, tuple)) == 5, data

# The other session changes things: a flag, an expunge, new mail.
ok(b.select("INBOX"))
ok(b.uid("STORE", "2", "+FLAGS", r"(\Seen)"))
ok(b.uid("STORE", "3", "+FLAGS", r"(\Deleted)"))
ok(b.expunge())
ok(b.append("INBOX", None, None, b"Subject: thu 6\r\n\r\nNoi dung 6\r\n"))

a.untagged_responses.clear()
ok(a.noop())
assert untagged(a, "VANISHED") == [b"3"], a.untagged_responses
assert untagged(a, "EXPUNGE") == [], a.untagged_responses
fetches = untagged(a, "FETCH")
assert any(b"UID 2 " in f and b"\\Seen" in f and b"MODSEQ (" in f for f in fetches), fetches
assert untagged(a, "EXISTS") == [b"5"], a.untagged_responses

# Reconnect the way Thunderbird does: SELECT (QRESYNC (uidvalidity modseq)).
c = imaps(user, password)
ok(command(c, "ENABLE", "QRESYNC"))
c.untagged_responses.clear()
ok(select(c, "INBOX", "(QRESYNC (%d %d 1:5))" % (uidvalidity, modseq0)))
vanished = untagged(c, "VANISHED")
assert vanished == [b"(EARLIER) 3"], c.untagged_responses
fetches = untagged(c, "FETCH")
uids = sorted(int(re.search(rb"UID (\d+)", f).group(1)) for f in fetches)
assert uids == [2, 6], fetches
# UID FETCH ... (CHANGEDSINCE m VANISHED) gives the same answer.
c.untagged_responses.clear()
ok(command(c, "UID", "FETCH", "1:*", "(FLAGS)", "(CHANGEDSINCE %d VANISHED)" % modseq0))
assert untagged(c, "VANISHED") == [b"(EARLIER) 3"], c.untagged_responses
assert len(untagged(c, "FETCH")) == 2
# QRESYNC before ENABLE is a protocol error; a wrong UIDVALIDITY means a full resync.
d = imaps(user, password)
try:
    select(d, "INBOX", "(QRESYNC (%d %d))" % (uidvalidity, modseq0))
    raise AssertionError("QRESYNC before ENABLE was accepted")
except imaplib.IMAP4.error as e:
    assert "ENABLE QRESYNC" in str(e), e
ok(command(d, "ENABLE", "QRESYNC"))
d.untagged_responses.clear()
ok(select(d, "INBOX", "(QRESYNC (%d %d))" % (uidvalidity + 1, modseq0)))
assert untagged(d, "VANISHED") == [] and untagged(d, "FETCH") == [], d.untagged_responses
# SELECT of another mailbox while one is selected says CLOSED first.
ok(select(d, "Archive"))
assert "CLOSED" in d.untagged_responses, d.untagged_responses
d.logout()

# STORE UNCHANGEDSINCE: B changed message 1 after A read its modseq -> MODIFIED.
a.untagged_responses.clear()
ok(command(a, "UID", "FETCH", "1:2", "(MODSEQ)"))
modseq1 = max(int(re.search(rb"MODSEQ \((\d+)\)", f).group(1)) for f in untagged(a, "FETCH"))
ok(b.uid("STORE", "1", "+FLAGS", r"(\Answered)"))
typ, text = tagged_text(a, "UID", "STORE", "1,2", "(UNCHANGEDSINCE %d)" % modseq1, "+FLAGS", r"(\Flagged)")
assert typ == "OK" and b"[MODIFIED 1]" in text, (typ, text)
# The one that passed came back with its MODSEQ.
fetches = [f for f in untagged(a, "FETCH") if b"UID 2 " in f]
assert fetches and b"\\Flagged" in fetches[-1] and b"MODSEQ (" in fetches[-1], fetches

# SEARCH MODSEQ: what changed since modseq1, with the highest modseq of the matches.
a.untagged_responses.clear()
typ, data = a.uid("SEARCH", "MODSEQ", str(modseq1 + 1))
assert typ == "OK" and re.match(rb"^1 2 6 \(MODSEQ \d+\)$", data[0]), data

# ESEARCH (RFC 4731).
a.untagged_responses.clear()
ok(command(a, "UID", "SEARCH", "RETURN", "(MIN MAX COUNT ALL)", "ALL"))
esearch = untagged(a, "ESEARCH")
assert esearch and re.search(rb'\(TAG "[^"]+"\) UID MIN 1 MAX 6 COUNT 5 ALL 1:2,4:6$', esearch[0]), esearch
ok(command(a, "SEARCH", "RETURN", "(COUNT)", "FROM", "dat"))
assert untagged(a, "ESEARCH")[0].endswith(b"COUNT 4"), a.untagged_responses
ok(command(a, "SEARCH", "RETURN", "()", "SUBJECT", "nothing-like-this"))
assert re.match(rb'^\(TAG "[^"]+"\)$', untagged(a, "ESEARCH")[0]), a.untagged_responses

# QUOTA (RFC 9208).
ok(command(a, "GETQUOTAROOT", "INBOX"))
assert untagged(a, "QUOTAROOT") == [b'INBOX ""'], a.untagged_responses
quota = untagged(a, "QUOTA")
assert quota and re.match(rb'^"" \(STORAGE \d+ 2097152\)$', quota[0]), quota
ok(command(a, "GETQUOTA", '""'))

# MOVE is atomic: COPYUID, then VANISHED for A (QRESYNC) and EXPUNGE for B (no QRESYNC).
a.untagged_responses.clear()
typ, data = command(a, "UID", "MOVE", "4", "Archive")
assert typ == "OK", (typ, data)
assert untagged(a, "COPYUID"), a.untagged_responses
assert untagged(a, "VANISHED") == [b"4"], a.untagged_responses
b.untagged_responses.clear()
ok(b.noop())
assert untagged(b, "EXPUNGE") == [b"3"], b.untagged_responses
ok(b.select("Archive"))
assert untagged(b, "EXISTS") == [b"1"]
ok(b.select("INBOX"))

# IDLE under QRESYNC: new mail, a flag change with MODSEQ, and VANISHED arrive at once.
tag = idle_start(a)
ok(b.append("INBOX", None, None, b"Subject: thu 7\r\n\r\nNoi dung 7\r\n"))
read_until(a, lambda l: l.endswith(b"EXISTS\r\n"))
ok(b.uid("STORE", "5", "+FLAGS", r"(\Flagged)"))
lines = read_until(a, lambda l: b"FETCH" in l)
assert b"MODSEQ (" in lines[-1] and b"UID 5 " in lines[-1], lines
ok(b.uid("STORE", "5", "+FLAGS.SILENT", r"(\Deleted)"))
ok(b.expunge())
lines = read_until(a, lambda l: b"VANISHED" in l or b"EXPUNGE" in l)
assert lines[-1] == b"* VANISHED 5\r\n", lines
idle_done(a, tag)

for conn in (a, b, c):
    conn.logout()
print("OK")
