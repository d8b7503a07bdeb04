"""A raw SMTP connection for the tests that send what no polite client sends (imported by
smtp_smuggling.py): bytes go out exactly as given, replies are read line by line."""

import base64
import socket
import ssl

from smtp_common import HOST, check, port, tls_context


class Raw:
    def __init__(self, listener, login=None, password=None):
        sock = socket.create_connection((HOST, port(listener)), timeout=60)
        if listener == "submissions":
            sock = tls_context().wrap_socket(sock)
        self.sock = sock
        self.buf = b""
        self.expect("220")
        self.send(b"EHLO client.example.org\r\n")
        self.expect("250")
        if login is not None:
            token = base64.b64encode(f"\0{login}\0{password}".encode()).decode()
            self.send(f"AUTH PLAIN {token}\r\n".encode())
            self.expect("235")

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """The last line of the next (possibly multi-line) reply; None at end of stream."""
        while True:
            line = self.line()
            if line is None or len(line) < 4 or line[3] != "-":
                return line

    def expect(self, code):
        reply = self.reply()
        check(reply is not None and reply.startswith(code), f"expected {code}, got {reply!r}")
        return reply

    def rest(self):
        """Every reply until the server closes the connection."""
        replies = []
        while True:
            reply = self.reply()
            if reply is None:
                return replies
            replies.append(reply)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
