"""ManageSieve (RFC 5804) by hand over a socket, following the RFC's examples: capabilities,
STARTTLS, AUTHENTICATE PLAIN (initial response and continuation), PUTSCRIPT with literals,
CHECKSCRIPT errors, LISTSCRIPTS, SETACTIVE, DELETESCRIPT of the active script, RENAMESCRIPT,
GETSCRIPT, HAVESPACE, oversized literals, NOOP tags, UNAUTHENTICATE, LOGOUT.

Usage: managesieve_protocol.py ADDRESS PASSWORD [FIRST_TIME_ADDRESS FIRST_TIME_PASSWORD]
"""

import base64
import os
import socket
import ssl
import sys

HOST = os.environ["HOPTHU_HOST"]
PORT = int(os.environ["HOPTHU_MANAGESIEVE_PORT"])


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)


class Client:
    def __init__(self):
        self.sock = socket.create_connection((HOST, PORT), timeout=20)
        self.file = self.sock.makefile("rb")

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        line = self.file.readline()
        check(line != b"", "connection closed unexpectedly")
        return line.rstrip(b"\r\n").decode()

    def response(self):
        """Lines (a literal's content joined in) until OK / NO / BYE: (lines, final line)."""
        lines = []
        while True:
            line = self.line()
            if line.startswith("{") and line.endswith("}"):
                n = int(line[1:-1].rstrip("+"))
                data = self.file.read(n)
                lines.append(data.decode())
                rest = self.file.readline().rstrip(b"\r\n").decode()
                if rest:
                    lines.append(rest)
                continue
            if line.split(" ")[0] in ("OK", "NO", "BYE"):
                if line.endswith("}") and "{" in line:
                    # A final line ending with a literal (a long error message).
                    n = int(line[line.rindex("{") + 1:-1].rstrip("+"))
                    text = self.file.read(n).decode()
                    self.file.readline()
                    line = line[:line.rindex("{")] + text
                return lines, line
            lines.append(line)

    def command(self, data):
        self.send(data)
        return self.response()

    def starttls(self):
        _, final = self.command(b"STARTTLS\r\n")
        check(final.startswith("OK"), f"STARTTLS: {final}")
        context = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
        context.check_hostname = False
        self.sock = context.wrap_socket(self.sock)
        self.file = self.sock.makefile("rb")
        return self.response()


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def literal(text):
    data = text.encode()
    return b"{%d+}\r\n" % len(data) + data


def main():
    address, password = sys.argv[1], sys.argv[2]
    c = Client()
    caps, final = c.response()
    check(final.startswith("OK"), f"greeting: {final}")
    check('"IMPLEMENTATION" "hopthu"' in caps, caps)
    check('"STARTTLS"' in caps, caps)
    check('"VERSION" "1.0"' in caps, caps)
    check('"SASL" ""' in caps, f"no mechanism before TLS: {caps}")
    sieve = [c for c in caps if c.startswith('"SIEVE"')]
    check(sieve and "fileinto" in sieve[0] and "vacation" in sieve[0], caps)

    # Passwords only under TLS.
    _, final = c.command(f'AUTHENTICATE "PLAIN" "{plain(address, password)}"\r\n'.encode())
    check(final.startswith("NO (ENCRYPT-NEEDED)"), f"AUTHENTICATE without TLS: {final}")
    _, final = c.command(b"LISTSCRIPTS\r\n")
    check(final.startswith("NO"), f"LISTSCRIPTS before sign-in: {final}")

    caps, final = c.starttls()
    check(final.startswith("OK"), f"after STARTTLS: {final}")
    check('"SASL" "PLAIN"' in caps, caps)
    check('"STARTTLS"' not in caps, caps)

    _, final = c.command(f'AUTHENTICATE "PLAIN" "{plain(address, "wrong")}"\r\n'.encode())
    check(final.startswith("NO"), f"wrong password: {final}")
    # The continuation form: an empty challenge, the response as a string.
    c.send(b'AUTHENTICATE "PLAIN"\r\n')
    check(c.line() == '""', "empty challenge")
    _, final = c.command(literal(plain(address, password)) + b"\r\n")
    check(final.startswith("OK"), f"AUTHENTICATE: {final}")
    caps, final = c.command(b"CAPABILITY\r\n")
    check(final.startswith("OK") and any(l.startswith('"OWNER"') for l in caps), caps)

    # RFC 5804 §2.6: a script that does not compile is refused with the error.
    _, final = c.command(b'Putscript "foo" {31+}\r\n#comment\r\nInvalidSieveCommand\r\n\r\n')
    check(final.startswith("NO"), f"PUTSCRIPT invalid: {final}")
    check(len(final) > 4, f"the error says why: {final}")
    _, final = c.command(b"CHECKSCRIPT " + literal("if true {\r\n  frobnicate;\r\n}\r\n") + b"\r\n")
    check(final.startswith("NO"), f"CHECKSCRIPT invalid: {final}")
    _, final = c.command(b"CHECKSCRIPT " + literal('require "fileinto";\r\nkeep;\r\n') + b"\r\n")
    check(final.startswith("OK"), f"CHECKSCRIPT valid: {final}")
    lines, final = c.command(b"LISTSCRIPTS\r\n")
    check(final.startswith("OK") and "foo" not in " ".join(lines), f"nothing stored: {lines}")

    script = 'require ["fileinto"];\r\n# Thư mục "Báo cáo"\r\nif header :contains "subject" "báo cáo" {\r\n  fileinto "Reports";\r\n}\r\n'
    _, final = c.command(b'HAVESPACE "mysieve" 1000\r\n')
    check(final.startswith("OK"), f"HAVESPACE: {final}")
    _, final = c.command(b'HAVESPACE "mysieve" 999999999\r\n')
    check(final.startswith("NO (QUOTA/MAXSIZE)"), f"HAVESPACE too big: {final}")
    _, final = c.command(b'PUTSCRIPT "mysieve" ' + literal(script) + b"\r\n")
    check(final.startswith("OK"), f"PUTSCRIPT: {final}")
    _, final = c.command(b'PUTSCRIPT "spare" ' + literal("keep;\r\n") + b"\r\n")
    check(final.startswith("OK"), f"PUTSCRIPT spare: {final}")
    lines, final = c.command(b"LISTSCRIPTS\r\n")
    check(sorted(lines) == ['"mysieve"', '"spare"'], f"LISTSCRIPTS: {lines}")
    _, final = c.command(b'SETACTIVE "mysieve"\r\n')
    check(final.startswith("OK"), f"SETACTIVE: {final}")
    _, final = c.command(b'SETACTIVE "nope"\r\n')
    check(final.startswith("NO (NONEXISTENT)"), f"SETACTIVE missing: {final}")
    lines, _ = c.command(b"LISTSCRIPTS\r\n")
    check('"mysieve" ACTIVE' in lines and '"spare"' in lines, f"LISTSCRIPTS active: {lines}")
    _, final = c.command(b'DELETESCRIPT "mysieve"\r\n')
    check(final.startswith("NO (ACTIVE)"), f"DELETESCRIPT active: {final}")
    _, final = c.command(b'RENAMESCRIPT "mysieve" "spare"\r\n')
    check(final.startswith("NO (ALREADYEXISTS)"), f"RENAMESCRIPT onto another: {final}")
    _, final = c.command(b'RENAMESCRIPT "nope" "other"\r\n')
    check(final.startswith("NO (NONEXISTENT)"), f"RENAMESCRIPT missing: {final}")
    _, final = c.command('RENAMESCRIPT "mysieve" "bộ lọc"\r\n'.encode())
    check(final.startswith("OK"), f"RENAMESCRIPT: {final}")
    lines, final = c.command('GETSCRIPT "bộ lọc"\r\n'.encode())
    check(final.startswith("OK") and lines == [script], f"GETSCRIPT: {lines!r}")
    lines, _ = c.command(b"LISTSCRIPTS\r\n")
    check('"bộ lọc" ACTIVE' in lines, f"the renamed script stays active: {lines}")
    _, final = c.command(b'GETSCRIPT "mysieve"\r\n')
    check(final.startswith("NO (NONEXISTENT)"), f"GETSCRIPT missing: {final}")
    _, final = c.command(b'SETACTIVE ""\r\n')
    check(final.startswith("OK"), f"SETACTIVE none: {final}")
    _, final = c.command('DELETESCRIPT "bộ lọc"\r\n'.encode())
    check(final.startswith("OK"), f"DELETESCRIPT: {final}")
    lines, _ = c.command(b"LISTSCRIPTS\r\n")
    check(lines == ['"spare"'], f"after DELETESCRIPT: {lines}")

    # A literal beyond max_script_size is skipped and refused; the session goes on.
    big = b"#" * 70000
    _, final = c.command(b'PUTSCRIPT "big" {%d+}\r\n' % len(big) + big + b"\r\n")
    check(final.startswith("NO (QUOTA/MAXSIZE)"), f"huge literal: {final}")
    _, final = c.command(b'NOOP "t1"\r\n')
    check(final.startswith('OK (TAG "t1")'), f"NOOP: {final}")
    _, final = c.command(b"FROBNICATE\r\n")
    check(final.startswith("NO"), f"unknown command: {final}")
    _, final = c.command(b"UNAUTHENTICATE\r\n")
    check(final.startswith("OK"), f"UNAUTHENTICATE: {final}")
    _, final = c.command(b"LISTSCRIPTS\r\n")
    check(final.startswith("NO"), f"LISTSCRIPTS after UNAUTHENTICATE: {final}")
    _, final = c.command(b"LOGOUT\r\n")
    check(final.startswith("OK"), f"LOGOUT: {final}")

    # A literal far too large ends the connection with BYE.
    c = Client()
    c.response()
    c.send(b'PUTSCRIPT "x" {4000000000+}\r\n')
    _, final = c.response()
    check(final.startswith("BYE"), f"enormous literal: {final}")
    check(c.file.readline() == b"", "closed after BYE")

    # A one-time password does not open ManageSieve (as IMAP and POP3).
    if len(sys.argv) > 4:
        c = Client()
        c.response()
        c.starttls()
        user, pw = sys.argv[3], sys.argv[4]
        _, final = c.command(f'AUTHENTICATE "PLAIN" "{plain(user, pw)}"\r\n'.encode())
        check(final.startswith("NO"), f"one-time password: {final}")
    print("OK")


main()
