"""For the Trash/Junk sweep test: `put address password` appends one message to INBOX, two
to Trash (one dated 2020) and one to Junk; `count address password` prints
`INBOX n Trash n Junk n`."""
import re
import sys
import time

from imap_common import imaps, ok

mode, user, password = sys.argv[1:4]
c = imaps(user, password)
if mode == "put":
    msg = lambda s: ("Subject: %s\r\n\r\nnoi dung\r\n" % s).encode()
    ok(c.append("INBOX", None, None, msg("giu lai")))
    ok(c.append("Trash", None, None, msg("rac moi")))
    old = time.mktime((2020, 1, 15, 8, 0, 0, 0, 0, -1))
    ok(c.append("Trash", None, old, msg("rac cu")))
    ok(c.append("Junk", None, None, msg("thu rac")))
else:
    counts = []
    for box in ("INBOX", "Trash", "Junk"):
        status = ok(c.status(box, "(MESSAGES)"))[0].decode()
        counts.append("%s %s" % (box, re.search(r"MESSAGES (\d+)", status).group(1)))
    print(" ".join(counts))
c.logout()
print("OK")
