"""Signs in over IMAPS and says how it went (for the unit mailbox tests).

    python3 unit_mailbox_login.py ADDRESS PASSWORD

Prints "OK" when LOGIN succeeds, else "NO " and the server's refusal (with its response code).
"""
import imaplib
import os
import ssl
import sys

address, password = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
ctx.check_hostname = False
with imaplib.IMAP4_SSL(os.environ["HOPTHU_HOST"], int(os.environ["HOPTHU_IMAPS_PORT"]),
                       ssl_context=ctx, timeout=20) as imap:
    try:
        typ, _ = imap.login(address, password)
    except imaplib.IMAP4.error as e:
        print("NO %s" % e)
        sys.exit(0)
    assert typ == "OK", typ
    # Signed in for real: the INBOX opens.
    typ, _ = imap.select("INBOX")
    assert typ == "OK", typ
    print("OK")
    imap.logout()
