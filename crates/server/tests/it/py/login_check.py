"""Signs in with the given address and password.

    python3 login_check.py ADDRESS PASSWORD            # IMAPS; prints OK or fails
    python3 login_check.py ADDRESS PASSWORD --accepted # OK, or MUST-CHANGE for a right one-time password
    python3 login_check.py ADDRESS PASSWORD --one-time # the password is right but must be changed

With --one-time, IMAP (LOGIN), POP3 (USER/PASS over POP3S) and SMTP AUTH on submissions must
all refuse the sign-in with a notice naming the webmail page where it is changed; prints
"MUST-CHANGE" and the three refusals, one per line.
"""
import imaplib
import os
import poplib
import smtplib
import ssl
import sys

address, password = sys.argv[1], sys.argv[2]
one_time = "--one-time" in sys.argv[3:]
accepted = "--accepted" in sys.argv[3:]
host = os.environ["HOPTHU_HOST"]
ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
ctx.check_hostname = False

if not one_time:
    with imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20) as imap:
        try:
            typ, _ = imap.login(address, password)
        except imaplib.IMAP4.error as e:
            # --accepted: a one-time password that is right but must still be changed counts
            # (the refusal names the change; a wrong or revoked password is refused otherwise).
            if accepted and "must be changed" in str(e):
                print("MUST-CHANGE")
                sys.exit(0)
            raise
        assert typ == "OK", typ
        print("OK")
        imap.logout()
    sys.exit(0)

lines = ["MUST-CHANGE"]
imap = imaplib.IMAP4_SSL(host, int(os.environ["HOPTHU_IMAPS_PORT"]), ssl_context=ctx, timeout=20)
try:
    imap.login(address, password)
    raise SystemExit("IMAP accepted a one-time password")
except imaplib.IMAP4.error as e:
    alerts = imap.untagged_responses.get("NO", []) + imap.untagged_responses.get("ALERT", [])
    lines.append("IMAP %s | %s" % (e, b" ".join(alerts).decode()))
imap.logout()

pop = poplib.POP3_SSL(host, int(os.environ["HOPTHU_POP3S_PORT"]), context=ctx, timeout=20)
pop.user(address)
try:
    pop.pass_(password)
    raise SystemExit("POP3 accepted a one-time password")
except poplib.error_proto as e:
    lines.append("POP3 %s" % e.args[0].decode())
pop.quit()

with smtplib.SMTP_SSL(host, int(os.environ["HOPTHU_SUBMISSIONS_PORT"]), context=ctx, timeout=20) as smtp:
    try:
        smtp.login(address, password)
        raise SystemExit("SMTP accepted a one-time password")
    except smtplib.SMTPAuthenticationError as e:
        lines.append("SMTP %d %s" % (e.smtp_code, e.smtp_error.decode()))
print("\n".join(lines))
