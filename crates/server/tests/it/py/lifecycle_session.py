"""An IMAP session signed in before its address changes.

    python3 lifecycle_session.py ADDRESS PASSWORD

Signs in over IMAPS and prints "signed-in"; after a line on standard input sends NOOP for
up to 10 s and prints "bye" when the server ends the session, "still-open" otherwise.
"""
import imaplib
import os
import ssl
import sys
import time

address, password = sys.argv[1:3]
host = os.environ["HOPTHU_HOST"]
ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
ctx.check_hostname = False
imap = imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20)
typ, _ = imap.login(address, password)
assert typ == "OK", typ
typ, _ = imap.select("INBOX")
assert typ == "OK", typ
print("signed-in", flush=True)
sys.stdin.readline()
try:
    for _ in range(20):
        time.sleep(0.5)
        imap.noop()
    print("still-open", flush=True)
except (imaplib.IMAP4.abort, OSError, EOFError):
    print("bye", flush=True)
