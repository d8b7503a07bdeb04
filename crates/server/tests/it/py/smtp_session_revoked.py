"""An authenticated submission session outlives no credential change: the script signs in,
sends one message, prints READY and waits for a line on standard input (the test changes the
password meanwhile), then MAIL must get 421 4.7.0 and the connection must close.

Usage: smtp_session_revoked.py LOGIN PASSWORD RCPT
Prints "OK" or "FAILED: ..." (exit 1).
"""

import smtplib
import sys

from smtp_common import HOST, check, port, tls_context

login, password, rcpt = sys.argv[1:4]
smtp = smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=60)
smtp.login(login, password)
message = f"From: {login}\r\nTo: {rcpt}\r\nSubject: truoc\r\n\r\nbefore\r\n".encode()
refused = smtp.sendmail(login, [rcpt], message)
check(not refused, f"refused {refused}")
print("READY", flush=True)
sys.stdin.readline()
code, text = smtp.mail(login)
check(code == 421 and text.startswith(b"4.7.0"), f"MAIL after the password change: {code} {text}")
try:
    code, text = smtp.noop()
    check(code == -1 or code == 421, f"the session went on: {code} {text}")
except smtplib.SMTPServerDisconnected:
    pass
print("OK")
