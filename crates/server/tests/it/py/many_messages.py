"""Appends N messages to INBOX whose subject is `<prefix> <i>`. Arguments: address password
prefix count."""
import sys

from imap_common import imaps, ok

user, password, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = imaps(user, password)
for i in range(count):
    ok(c.append("INBOX", None, None, ("Subject: %s %d\r\n\r\nnoi dung\r\n" % (prefix, i)).encode()))
c.logout()
print("OK")
