"""LOGIN with literals whose user name holds CRLF and a forged log line: the server refuses the
sign-in, and the caller checks that the log has no line starting with the forged text.

Usage: imap_log_injection.py"""
import socket
import ssl

from imap_common import HOST, tls_context
import os

raw = socket.create_connection((HOST, int(os.environ["HOPTHU_IMAPS_PORT"])), timeout=20)
conn = tls_context().wrap_socket(raw, server_hostname="mail")
f = conn.makefile("rb")
assert f.readline().startswith(b"* OK"), "greeting"
user = b"nobody\r\nFORGED INFO hopthu: signed in user=admin\r\n"
password = b"wrong-password"
conn.sendall(b"a1 LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n" % (len(user), user, len(password), password))
while True:
    line = f.readline()
    assert line, "connection closed"
    if line.startswith(b"a1 "):
        break
assert line.startswith(b"a1 NO"), line
print("refused:", line.decode().strip())
conn.sendall(b"a2 LOGOUT\r\n")
conn.close()
