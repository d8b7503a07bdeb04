"""An official document's copy in a unit mailbox, read over IMAP (Đ15).

    python3 document_open.py ADDRESS PASSWORD

Selects INBOX, finds the message with an X-Document-Number header and FETCHes BODY[] (which
sets \\Seen, as a mail client reading it does). Prints one JSON object: the X-Document-*
headers (decoded), the subject, and the attachment's name and SHA-256.
"""
import email
import hashlib
import json
import sys
from email.policy import default

from imap_common import imaps, ok

address, password = sys.argv[1], sys.argv[2]
c = imaps(address, password)
ok(c.select("INBOX"))
typ, data = c.uid("SEARCH", None, "HEADER", "X-Document-Number", '""')
ok((typ, data))
uids = data[0].split()
assert len(uids) == 1, uids
typ, data = c.uid("FETCH", uids[0], "(BODY[])")
ok((typ, data))
raw = next(item[1] for item in data if isinstance(item, tuple))
msg = email.message_from_bytes(raw, policy=default)
out = {k: str(v) for k, v in msg.items() if k.lower().startswith("x-document-")}
out["subject"] = str(msg["Subject"])
for part in msg.iter_attachments():
    out["attachment"] = part.get_filename()
    out["attachment_sha256"] = hashlib.sha256(part.get_content()).hexdigest()
typ, data = c.uid("FETCH", uids[0], "(FLAGS)")
out["flags"] = data[0].decode()
print(json.dumps(out, ensure_ascii=False))
c.logout()
