"""Connection and sign-in limits (Đ13.3) over IMAPS, against a server started with
connections_per_ip = 3 and auth_failures_per_ip = 2.

    imap_limits.py ADDRESS PASSWORD

1. Three connections are served; a fourth is told BYE at once; closing one makes room again.
2. Two failed sign-ins from this address, then even the right password is refused without
   being checked (NO [UNAVAILABLE]); prints OK.
"""
import imaplib
import os
import sys
import time

from imap_common import imaps

address, password = sys.argv[1], sys.argv[2]
port = int(os.environ["HOPTHU_IMAPS_PORT"])

held = [imaps() for _ in range(3)]
for conn in held:
    assert conn.welcome.startswith(b"* OK"), conn.welcome

# The fourth: the greeting is a BYE (imaplib raises on it).
try:
    extra = imaps()
    raise SystemExit("a fourth connection was served: %r" % extra.welcome)
except imaplib.IMAP4.error as e:
    assert "Too many connections" in str(e), e

held.pop().logout()
# The permit comes free when the server has closed that session: a bounded retry.
deadline = time.monotonic() + 10
while True:
    try:
        room = imaps(address, password)
        break
    except imaplib.IMAP4.error as e:
        assert "Too many connections" in str(e), e
        assert time.monotonic() < deadline, "the permit was never released"
        time.sleep(0.05)
room.logout()

# Failed sign-ins: each is answered, and after two the address is throttled.
for attempt in range(2):
    try:
        held[0].login(address, "sai-mat-khau-%d" % attempt)
        raise SystemExit("a wrong password was accepted")
    except imaplib.IMAP4.error as e:
        assert "AUTHENTICATIONFAILED" in str(e), e
try:
    held[1].login(address, password)
    raise SystemExit("a throttled address was let in")
except imaplib.IMAP4.error as e:
    assert "UNAVAILABLE" in str(e) and "Too many failed sign-ins" in str(e), e
for conn in held:
    conn.logout()
print("OK")
