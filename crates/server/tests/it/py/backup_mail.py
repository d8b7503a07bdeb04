"""Puts messages into INBOX or lists it, for the backup test. Arguments: put|list address
password [subject ...]. `list` prints one line per message: UID and SHA-256 of its bytes."""
import hashlib
import re
import sys

from imap_common import imaps, ok

mode, user, password = sys.argv[1:4]
c = imaps(user, password)
if mode == "put":
    for subject in sys.argv[4:]:
        body = "Subject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNội dung: %s\r\n" % (subject, subject)
        ok(c.append("INBOX", None, None, body.encode()))
else:
    ok(c.select("INBOX", readonly=True))
    typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
    assert typ == "OK", data
    for item in data:
        if isinstance(item, tuple):
            uid = re.search(rb"UID (\d+)", item[0]).group(1).decode()
            print(uid, hashlib.sha256(item[1]).hexdigest())
c.logout()
print("OK")
