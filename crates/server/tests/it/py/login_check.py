"""Signs in over IMAPS with the given address and password; prints OK or fails."""
import imaplib
import os
import ssl
import sys

ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
ctx.check_hostname = False
with imaplib.IMAP4_SSL(os.environ["HOPTHU_HOST"], int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20) as imap:
    typ, _ = imap.login(sys.argv[1], sys.argv[2])
    assert typ == "OK", typ
    print("OK")
    imap.logout()
