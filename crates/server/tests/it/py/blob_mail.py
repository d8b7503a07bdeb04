"""For the blob collector tests, over IMAPS.

    python3 blob_mail.py append ADDRESS PASSWORD MAILBOX MARKER
        Appends "Subject: MARKER" with MARKER in the body to MAILBOX.
    python3 blob_mail.py expunge ADDRESS PASSWORD MAILBOX MARKER
        Flags \\Deleted and expunges the messages of MAILBOX whose subject holds MARKER; prints
        how many went.
    python3 blob_mail.py read ADDRESS PASSWORD MAILBOX
        Fetches every body of MAILBOX; prints how many (a missing body fails the FETCH).
"""
import sys

from imap_common import imaps, ok

command, user, password, mailbox = sys.argv[1:5]
c = imaps(user, password)
if command == "append":
    marker = sys.argv[5]
    raw = ("Subject: %s\r\nFrom: <%s>\r\n\r\nNoi dung %s.\r\n" % (marker, user, marker)).encode()
    ok(c.append(mailbox, None, None, raw))
    print("OK")
elif command == "expunge":
    marker = sys.argv[5]
    ok(c.select(mailbox))
    uids = ok(c.uid("SEARCH", None, "SUBJECT", marker))[0].split()
    if uids:
        ok(c.uid("STORE", b",".join(uids).decode(), "+FLAGS.SILENT", "(\\Deleted)"))
        ok(c.expunge())
    print(len(uids))
elif command == "read":
    count = int(ok(c.select(mailbox))[0])
    if count:
        data = ok(c.fetch("1:*", "(BODY.PEEK[])"))
        assert sum(1 for d in data if isinstance(d, tuple)) == count, data
    print(count)
else:
    sys.exit("unknown command %s" % command)
c.logout()
