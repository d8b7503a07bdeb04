"""Traffic for the metrics test: one good and one bad IMAP sign-in, and one message submitted
over SMTP to the sender's own mailbox. Arguments: address password."""
import imaplib
import smtplib
import sys

from smtp_common import HOST, port, tls_context

user, password = sys.argv[1], sys.argv[2]
imap = imaplib.IMAP4_SSL(HOST, port("imaps"), ssl_context=tls_context(), timeout=20)
imap.login(user, password)
imap.logout()
bad = imaplib.IMAP4_SSL(HOST, port("imaps"), ssl_context=tls_context(), timeout=20)
try:
    bad.login(user, "sai-mat-khau")
    raise AssertionError("a wrong password was accepted")
except imaplib.IMAP4.error:
    pass
bad.logout()
with smtplib.SMTP_SSL(HOST, port("submissions"), context=tls_context(), timeout=20) as smtp:
    smtp.login(user, password)
    smtp.sendmail(user, [user], ("From: %s\r\nTo: %s\r\nSubject: do kiem\r\n\r\nxin chao\r\n" % (user, user)).encode())
print("OK")
