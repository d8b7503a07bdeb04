"""For the quota test: `subjects address password` prints the decoded subject of every INBOX
message in order; `expunge address password subject...` deletes those messages."""
import email.header
import sys

from imap_common import imaps, ok

mode, user, password = sys.argv[1:4]
c = imaps(user, password)
ok(c.select("INBOX"))
typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
subjects = []
for item in data:
    if isinstance(item, tuple):
        raw = item[1].decode().split(":", 1)[1].strip()
        subjects.append(str(email.header.make_header(email.header.decode_header(raw))))
if mode == "subjects":
    for s in subjects:
        print(s)
else:
    for n, s in enumerate(subjects, 1):
        if s in sys.argv[4:]:
            ok(c.store(str(n), "+FLAGS", "(\\Deleted)"))
    ok(c.expunge())
c.logout()
print("OK")
