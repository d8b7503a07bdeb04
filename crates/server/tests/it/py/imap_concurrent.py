"""Two sessions on one mailbox see each other's changes: flags as `FETCH (FLAGS ...)`, new
mail as `EXISTS`, removals as `EXPUNGE` (never during FETCH, STORE or SEARCH, RFC 3501
§7.4.1). Arguments: address password."""
import sys

from imap_common import imaps, ok, untagged

user, password = sys.argv[1], sys.argv[2]
a = imaps(user, password)
b = imaps(user, password)
for i in range(1, 5):
    ok(a.append("INBOX", None, None, ("Subject: thu %d\r\n\r\nNoi dung %d\r\n" % (i, i)).encode()))
assert ok(a.select("INBOX")) == [b"4"]
assert ok(b.select("INBOX")) == [b"4"]
a.untagged_responses.clear()
b.untagged_responses.clear()

# A flags message 2: B learns it on NOOP.
ok(a.store("2", "+FLAGS", r"(\Flagged)"))
ok(b.noop())
fetches = untagged(b, "FETCH")
assert len(fetches) == 1 and fetches[0].startswith(b"2 (") and b"\\Flagged" in fetches[0], fetches

# A appends: B sees EXISTS on its next command.
ok(a.append("INBOX", None, None, b"Subject: thu 5\r\n\r\nNoi dung 5\r\n"))
ok(b.noop())
assert untagged(b, "EXISTS") == [b"5"], b.untagged_responses

# A deletes messages 2 and 4 and expunges.
ok(a.store("2,4", "+FLAGS.SILENT", r"(\Deleted)"))
# imaplib hands the EXPUNGE responses back as the result of expunge().
assert ok(a.expunge()) == [b"4", b"2"]
# B is in the middle of something: FETCH, STORE and SEARCH must not report the expunges...
data = ok(b.fetch("1:5", "(UID FLAGS)"))
assert len([d for d in data if d]) == 5, data
ok(b.store("5", "+FLAGS", r"(\Seen)"))
assert ok(b.search(None, "ALL")) == [b"1 2 3 4 5"]
assert untagged(b, "EXPUNGE") == [], b.untagged_responses
# ...a UID command may, and NOOP does; highest first so each number is still valid.
ok(b.uid("FETCH", "1", "(FLAGS)"))
assert untagged(b, "EXPUNGE") == [b"4", b"2"], b.untagged_responses
assert ok(b.search(None, "ALL")) == [b"1 2 3"]
# B's \Seen on (old) message 5 reached A, now message 3 for both.
ok(a.noop())
fetches = untagged(a, "FETCH")
assert any(f.startswith(b"3 (") and b"\\Seen" in f for f in fetches), fetches

# B removes everything with UID EXPUNGE-free CLOSE; A sees three EXPUNGEs on CHECK.
ok(b.store("1:3", "+FLAGS.SILENT", r"(\Deleted)"))
ok(b.close())
ok(a.check())
assert untagged(a, "EXPUNGE") == [b"3", b"2", b"1"], a.untagged_responses
assert ok(a.search(None, "ALL")) == [None] or ok(a.search(None, "ALL")) == [b""]
a.logout()
b.logout()
print("OK")
