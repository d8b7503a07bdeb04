"""Commands before sign-in are capped at 64 KiB, literals included, and framing stays linear:

- an ID with many LITERAL+ pairs is ended with `* BYE [TOOBIG]` once it passes the cap (it
  used to be re-parsed whole at every literal: 16,000 pairs took half a minute of server time);
- synchronising literals that add up past the cap get a tagged `NO [TOOBIG]` and the connection
  goes on;
- LOGIN with literals still works, and after sign-in a large APPEND (synchronising and
  LITERAL+) is taken.

    python3 imap_preauth_limits.py ADDRESS PASSWORD
"""
import os
import socket
import sys

from imap_common import HOST, tls_context

ADDRESS, PASSWORD = sys.argv[1], sys.argv[2]
# Generous: the refusal must come, not be fast to the millisecond.
TIMEOUT = 60


def connect():
    raw = socket.create_connection((HOST, int(os.environ["HOPTHU_IMAPS_PORT"])), timeout=TIMEOUT)
    s = tls_context().wrap_socket(raw)
    f = s.makefile("rb")
    greeting = f.readline()
    assert greeting.startswith(b"* OK"), greeting
    return s, f


def until_tagged(f, tag):
    lines = []
    while True:
        line = f.readline()
        assert line, (tag, lines)
        lines.append(line)
        if line.startswith(tag + b" ") or line.startswith(b"* BYE"):
            return lines


def literal(s, f, data, last=False):
    """Sends `{n}`, waits for `+`, sends the data."""
    s.sendall(b"{%d}\r\n" % len(data))
    cont = f.readline()
    assert cont.startswith(b"+"), cont
    s.sendall(data if not last else data + b"\r\n")


# 1. Many LITERAL+ pairs in one ID: BYE [TOOBIG], then the connection is closed. The command
# is sent up to the announcement that passes the cap, so the server has read all it was sent
# when it closes (nothing unread, no reset).
s, f = connect()
sent = b"a1 ID ("
chunks = [sent]
for i in range(16000):
    announce = (b"" if i == 0 else b" ") + b"{1+}\r\n"
    if len(sent) + len(announce) + 1 > 64 * 1024:
        chunks.append(announce)
        break
    sent += announce + b"kv"[i % 2:i % 2 + 1]
    chunks.append(announce + b"kv"[i % 2:i % 2 + 1])
s.sendall(b"".join(chunks))
lines = until_tagged(f, b"a1")
assert lines[-1].startswith(b"* BYE [TOOBIG]"), lines[-3:]
assert f.readline() == b"", "the connection is closed after BYE"
s.close()

# 2. Synchronising literals adding up past the cap: tagged NO [TOOBIG], the session goes on.
s, f = connect()
s.sendall(b"b1 ID (")
chunk = b"x" * 20000
refused = None
for i in range(6):
    s.sendall(b"" if i == 0 else b" ")
    s.sendall(b"{%d}\r\n" % len(chunk))
    line = f.readline()
    if not line.startswith(b"+"):
        refused = line
        break
    s.sendall(chunk)
assert refused is not None and refused.startswith(b"b1 NO [TOOBIG]"), refused
# A single synchronising literal over the cap is refused before it is sent.
s.sendall(b"b2 LOGIN {70000}\r\n")
line = f.readline()
assert line.startswith(b"b2 NO [TOOBIG]"), line
s.sendall(b"b3 NOOP\r\n")
assert until_tagged(f, b"b3")[-1].startswith(b"b3 OK")

# 3. LOGIN with literals works; after it a large APPEND does too, both kinds of literal.
s.sendall(b"c1 LOGIN ")
literal(s, f, ADDRESS.encode())
s.sendall(b" ")
literal(s, f, PASSWORD.encode(), last=True)
lines = until_tagged(f, b"c1")
assert lines[-1].startswith(b"c1 OK"), lines
message = (b"From: <" + ADDRESS.encode() + b">\r\nSubject: big\r\n\r\n"
           + b"0123456789abcdef\r\n" * 40000)
s.sendall(b"c2 APPEND INBOX ")
literal(s, f, message, last=True)
lines = until_tagged(f, b"c2")
assert lines[-1].startswith(b"c2 OK"), lines
s.sendall(b"c3 APPEND INBOX {%d+}\r\n" % len(message) + message + b"\r\n")
lines = until_tagged(f, b"c3")
assert lines[-1].startswith(b"c3 OK"), lines
# Many literals after sign-in are fine too (linear framing): ID with 2,000 pairs.
pairs = b"".join(b" {2+}\r\nk%d {2+}\r\nv%d" % (i % 10, i % 10) for i in range(2000))
s.sendall(b"c4 ID (" + pairs[1:] + b")\r\n")
lines = until_tagged(f, b"c4")
assert lines[-1].startswith(b"c4 "), lines[-3:]
s.sendall(b"c5 LOGOUT\r\n")
until_tagged(f, b"c5")
s.close()
print("OK")
