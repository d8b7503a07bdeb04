"""Helpers for the IMAP test scripts: connecting with imaplib, IDLE by hand (imaplib has no
IDLE before Python 3.14), and a small parser for IMAP response data (lists, strings,
literals) to check ENVELOPE and BODYSTRUCTURE structurally."""
import imaplib
import os
import re
import ssl
import time

HOST = os.environ["HOPTHU_HOST"]
TIMEOUT = 20


def tls_context():
    ctx = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
    ctx.check_hostname = False
    return ctx


def imaps(user=None, password=None):
    conn = imaplib.IMAP4_SSL(HOST, int(os.environ["HOPTHU_IMAPS_PORT"]),
                             ssl_context=tls_context(), timeout=TIMEOUT)
    if user is not None:
        ok(conn.login(user, password))
    return conn


def plain():
    return imaplib.IMAP4(HOST, int(os.environ["HOPTHU_IMAP_PORT"]), timeout=TIMEOUT)


def ok(result):
    typ, data = result
    assert typ == "OK", result
    return data


def untagged(conn, name):
    """Takes the untagged responses of a kind imaplib collected (and forgets them)."""
    _, data = conn.response(name)
    return [d for d in data if d is not None]


def raw(conn, command):
    """Sends one command (bytes after the tag) and returns (tagged line, untagged lines)."""
    tag = conn._new_tag()
    conn.send(tag + b" " + command + b"\r\n")
    lines = []
    while True:
        line = conn.readline()
        assert line, lines
        if line.startswith(tag + b" "):
            return line.rstrip(b"\r\n"), lines
        lines.append(line.rstrip(b"\r\n"))


def idle_start(conn):
    tag = conn._new_tag()
    conn.send(tag + b" IDLE\r\n")
    line = conn.readline()
    assert line.startswith(b"+"), line
    return tag


def read_until(conn, predicate, timeout=10.0):
    """Reads response lines until one satisfies `predicate`; returns all lines read."""
    deadline = time.monotonic() + timeout
    lines = []
    sock = conn.socket()
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            line = conn.readline()
            if not line:
                raise AssertionError("connection closed; read %r" % lines)
            lines.append(line)
            if predicate(line):
                return lines
    except (TimeoutError, OSError, ssl.SSLError) as e:
        raise AssertionError("timed out waiting; read %r (%r)" % (lines, e))
    finally:
        sock.settimeout(TIMEOUT)
    raise AssertionError("timed out waiting; read %r" % lines)


def idle_done(conn, tag):
    conn.send(b"DONE\r\n")
    lines = read_until(conn, lambda l: l.startswith(tag + b" "))
    assert lines[-1].startswith(tag + b" OK"), lines
    return lines


def flatten(data):
    """imaplib splits responses around literals; glue them back as `{n}\\r\\n<bytes>`."""
    out = b""
    for item in data:
        if isinstance(item, tuple):
            out += item[0] + b"\r\n" + item[1]
        elif item is not None:
            out += item
    return out


class Parser:
    """IMAP data: atoms/numbers as bytes, strings as bytes, NIL as None, lists as lists."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def skip_space(self):
        while self.pos < len(self.data) and self.data[self.pos:self.pos + 1] in (b" ", b"\r", b"\n"):
            self.pos += 1

    def value(self):
        self.skip_space()
        c = self.data[self.pos:self.pos + 1]
        if c == b"(":
            self.pos += 1
            items = []
            while True:
                self.skip_space()
                if self.data[self.pos:self.pos + 1] == b")":
                    self.pos += 1
                    return items
                items.append(self.value())
        if c == b'"':
            self.pos += 1
            out = b""
            while True:
                ch = self.data[self.pos:self.pos + 1]
                if ch == b"\\":
                    out += self.data[self.pos + 1:self.pos + 2]
                    self.pos += 2
                elif ch == b'"':
                    self.pos += 1
                    return out
                elif ch == b"":
                    raise AssertionError("unterminated string")
                else:
                    out += ch
                    self.pos += 1
        if c == b"{":
            m = re.compile(rb"\{(\d+)\}\r\n").match(self.data, self.pos)
            assert m, self.data[self.pos:self.pos + 20]
            n = int(m.group(1))
            start = m.end()
            self.pos = start + n
            return self.data[start:start + n]
        m = re.compile(rb"[^ ()\r\n\[]+(\[[^\]]*\](<\d+>)?)?").match(self.data, self.pos)
        assert m and m.end() > self.pos, self.data[self.pos:self.pos + 40]
        self.pos = m.end()
        token = m.group(0)
        return None if token.upper() == b"NIL" else token


def fetch_items(data):
    """Parses `n (NAME value NAME value ...)` from a FETCH response into a dict."""
    raw = flatten(data)
    p = Parser(raw)
    p.value()  # sequence number
    items = p.value()
    assert isinstance(items, list), raw
    return {items[i].upper(): items[i + 1] for i in range(0, len(items) - 1, 2)}
