"""Opens (or does not open) a mailbox the ways Đ13.1 counts.

    python3 report_opens.py imap ADDRESS PASSWORD   SELECT INBOX, then EXAMINE INBOX: two openings
    python3 report_opens.py pop3 ADDRESS PASSWORD   one POP3 session over POP3S: one opening
    python3 report_opens.py smtp ADDRESS PASSWORD   an SMTP submission sign-in: no opening
"""
import imaplib
import os
import poplib
import smtplib
import ssl
import sys

host = os.environ["HOPTHU_HOST"]
how, address, password = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
ctx.check_hostname = False

if how == "imap":
    with imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20) as imap:
        assert imap.login(address, password)[0] == "OK"
        assert imap.select("INBOX")[0] == "OK"
        # Another folder first: opening INBOX is what counts, not the other folders.
        assert imap.select("Sent")[0] == "OK"
        assert imap.select("INBOX", readonly=True)[0] == "OK"
        imap.logout()
elif how == "pop3":
    pop = poplib.POP3_SSL(host, int(os.environ["HOPTHU_POP3S_PORT"]), context=ctx, timeout=20)
    pop.user(address)
    pop.pass_(password)
    pop.stat()
    pop.quit()
elif how == "smtp":
    with smtplib.SMTP(host, int(os.environ["HOPTHU_SUBMISSION_PORT"]), timeout=20) as smtp:
        smtp.starttls(context=ctx)
        smtp.login(address, password)
else:
    sys.exit(f"unknown way {how}")
print("ok")
