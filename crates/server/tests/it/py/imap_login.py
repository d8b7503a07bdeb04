"""Signs in over IMAPS and over STARTTLS (LOGIN and AUTHENTICATE PLAIN, with and without
SASL-IR), and checks that no password is accepted before STARTTLS on the plain port.
Arguments: address password."""
import base64
import imaplib
import sys

from imap_common import imaps, ok, plain, tls_context

user, password = sys.argv[1], sys.argv[2]

# IMAPS with LOGIN: the OK carries the post-login capabilities.
conn = imaps()
caps = conn.capabilities
assert "AUTH=PLAIN" in caps and "STARTTLS" not in caps and "LOGINDISABLED" not in caps, caps
for cap in ["IDLE", "UIDPLUS", "SPECIAL-USE", "NAMESPACE", "ID", "ENABLE", "UNSELECT", "CHILDREN", "LITERAL+", "MOVE"]:
    assert cap in caps, (cap, caps)
typ, data = conn.login(user, password)
assert typ == "OK" and b"CAPABILITY" in data[0], data
ok(conn.noop())
conn.logout()

# A wrong password is refused with AUTHENTICATIONFAILED.
conn = imaps()
try:
    conn.login(user, "wrong-password")
    raise AssertionError("wrong password accepted")
except imaplib.IMAP4.error as e:
    assert "AUTHENTICATIONFAILED" in str(e), e
conn.logout()

# The plain port: STARTTLS and LOGINDISABLED before TLS; LOGIN refused.
conn = plain()
caps = conn.capabilities
assert "STARTTLS" in caps and "LOGINDISABLED" in caps and "AUTH=PLAIN" not in caps, caps
try:
    conn.login(user, password)
    raise AssertionError("LOGIN accepted before STARTTLS")
except imaplib.IMAP4.error as e:
    assert "PRIVACYREQUIRED" in str(e) or "disabled" in str(e), e
conn.starttls(ssl_context=tls_context())
ok(conn.capability())
caps = conn.capabilities
assert "AUTH=PLAIN" in caps and "LOGINDISABLED" not in caps and "STARTTLS" not in caps, caps
ok(conn.login(user, password))
ok(conn.select("INBOX"))
conn.logout()

# AUTHENTICATE PLAIN after STARTTLS, the response after the empty challenge.
conn = plain()
conn.starttls(ssl_context=tls_context())
ok(conn.authenticate("PLAIN", lambda _: b"\0" + user.encode() + b"\0" + password.encode()))
conn.logout()

# AUTHENTICATE PLAIN with SASL-IR (RFC 4959), by hand.
conn = imaps()
tag = conn._new_tag()
ir = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())
conn.send(tag + b" AUTHENTICATE PLAIN " + ir + b"\r\n")
line = conn.readline()
assert line.startswith(tag + b" OK"), line
conn.send(b"z1 LOGOUT\r\n")
print("OK")
