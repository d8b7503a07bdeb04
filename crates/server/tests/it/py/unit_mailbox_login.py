"""Signs in and says how it went (for the unit mailbox tests).

    python3 unit_mailbox_login.py ADDRESS PASSWORD          # IMAPS only
    python3 unit_mailbox_login.py ADDRESS PASSWORD --all    # IMAPS, then POP3S, then SMTP submissions

Prints one line per protocol: "OK" when the sign-in succeeds, else "NO " and the server's
refusal (IMAP with its response code); with --all each line starts with the protocol's name.
"""
import imaplib
import os
import poplib
import smtplib
import ssl
import sys

address, password = sys.argv[1], sys.argv[2]
every = "--all" in sys.argv[3:]
host = os.environ["HOPTHU_HOST"]
ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
ctx.check_hostname = False


def imap():
    with imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20) as c:
        try:
            typ, _ = c.login(address, password)
        except imaplib.IMAP4.error as e:
            return "NO %s" % e
        assert typ == "OK", typ
        # Signed in for real: the INBOX opens.
        typ, _ = c.select("INBOX")
        assert typ == "OK", typ
        c.logout()
        return "OK"


def pop3():
    c = poplib.POP3_SSL(host, int(os.environ["HOPTHU_POP3S_PORT"]), context=ctx, timeout=20)
    try:
        c.user(address)
        c.pass_(password)
    except poplib.error_proto as e:
        return "NO %s" % e.args[0].decode()
    finally:
        c.quit()
    return "OK"


def smtp():
    with smtplib.SMTP_SSL(host, int(os.environ["HOPTHU_SUBMISSIONS_PORT"]), context=ctx, timeout=20) as c:
        try:
            c.login(address, password)
        except smtplib.SMTPAuthenticationError as e:
            return "NO %d %s" % (e.smtp_code, e.smtp_error.decode())
        return "OK"


if every:
    print("IMAP " + imap())
    print("POP3 " + pop3())
    print("SMTP " + smtp())
else:
    print(imap())
