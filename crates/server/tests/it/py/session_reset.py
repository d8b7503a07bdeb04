"""Open IMAP (selected) and POP3 sessions, then the operator resets the password with the CLI:
both sessions end, and the new password signs in. Arguments: address password hopthu-binary
config."""
import imaplib
import os
import poplib
import subprocess
import sys
import time

from imap_common import imaps, ok, tls_context

user, password, binary, config = sys.argv[1:5]
imap = imaps(user, password)
ok(imap.select("INBOX"))
pop = poplib.POP3_SSL(os.environ["HOPTHU_HOST"], int(os.environ["HOPTHU_POP3S_PORT"]),
                      context=tls_context(), timeout=20)
pop.user(user)
pop.pass_(password)
pop.stat()
subprocess.run([binary, "account", "password", user, "--no-force-change", "--config", config],
               input=b"mat-khau-moi-sau-reset\n", check=True, capture_output=True)
time.sleep(1.2)
try:
    imap.noop()
    raise AssertionError("the IMAP session survived the reset")
except imaplib.IMAP4.abort as e:
    bye = imap.untagged_responses.get("BYE", [b""])[0]
    assert b"password changed" in bye, (e, imap.untagged_responses)
try:
    pop.stat()
    raise AssertionError("the POP3 session survived the reset")
except poplib.error_proto as e:
    assert b"-ERR [AUTH]" in e.args[0], e
imaps(user, "mat-khau-moi-sau-reset").logout()
print("OK")
