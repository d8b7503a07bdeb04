"""LIST shows the six standard folders with SPECIAL-USE attributes; folders with Vietnamese
names (modified UTF-7 on the wire) can be created, listed, renamed, subscribed and deleted.
Arguments: address password."""
import imaplib
import re
import sys

from imap_common import imaps, ok


def q(name):
    """imaplib does not quote arguments."""
    return '"' + name + '"'


user, password = sys.argv[1], sys.argv[2]
conn = imaps(user, password)


def listing(*args):
    out = {}
    for line in ok(conn.list(*args)):
        m = re.match(rb'\(([^)]*)\) "/" (.*)$', line)
        assert m, line
        name = m.group(2).strip(b'"')
        out[name.decode()] = set(m.group(1).decode().split())
    return out


folders = listing()
assert folders == {
    "INBOX": {"\\HasNoChildren"},
    "Sent": {"\\HasNoChildren", "\\Sent"},
    "Drafts": {"\\HasNoChildren", "\\Drafts"},
    "Trash": {"\\HasNoChildren", "\\Trash"},
    "Junk": {"\\HasNoChildren", "\\Junk"},
    "Archive": {"\\HasNoChildren", "\\Archive"},
}, folders

# RFC 6154 §5.1 as Thunderbird asks: only the special-use folders.
typ, data = conn._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"')
assert typ == "OK", data
special = [l for l in conn.response("LIST")[1] if l]
assert len(special) == 5 and not any(b"INBOX" in l for l in special), special

# The root and separator.
assert ok(conn.list('""', '""')) == [b'(\\Noselect) "/" ""']

# Vietnamese names travel as modified UTF-7.
cong_van = "C&APQ-ng v&AQM-n"
den = cong_van + "/&ARAevw-n"  # "Đến"
ok(conn.create(q(den)))
folders = listing()
assert folders[cong_van] == {"\\HasChildren"}, folders
assert folders[den] == {"\\HasNoChildren"}, folders
assert set(listing('""', "%")) == {"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive", cong_van}
assert set(listing('""', q(cong_van + "/%"))) == {den}
assert set(listing('""', "inbox")) == {"INBOX"}

# STATUS of a new folder.
status = ok(conn.status(q(den), "(MESSAGES UNSEEN UIDNEXT)"))[0]
assert b"MESSAGES 0" in status and b"UNSEEN 0" in status and b"UIDNEXT 1" in status, status

# Subscriptions.
ok(conn.subscribe(q(den)))
assert any(den.encode() in l for l in ok(conn.lsub())), conn.lsub()
ok(conn.unsubscribe(q(den)))
assert not any(den.encode() in l for l in ok(conn.lsub()) if l), conn.lsub()

# Rename moves children; the old names are gone.
ok(conn.rename(q(cong_van), q("Luu tru")))
folders = listing()
assert "Luu tru/&ARAevw-n" in folders and cong_van not in folders, folders

# Refusals carry RFC 5530 codes.
for call, code in [
    (lambda: conn.create("INBOX"), "ALREADYEXISTS"),
    (lambda: conn.create("Sent"), "ALREADYEXISTS"),
    (lambda: conn.delete("INBOX"), "NOPERM"),
    (lambda: conn.delete(q("Luu tru")), "HASCHILDREN"),  # RFC 9051 §6.3.5
    (lambda: conn.delete(q("Khong co")), "NONEXISTENT"),
    (lambda: conn.select(q("Khong co")), "NONEXISTENT"),
]:
    typ, data = call()
    assert typ == "NO" and code.encode() in data[0], (code, typ, data)

ok(conn.delete(q("Luu tru/&ARAevw-n")))
ok(conn.delete(q("Luu tru")))
assert set(listing()) == {"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"}
ok(conn.namespace())
conn.logout()
print("OK")
