"""A relay for the smarthost test: SMTP on 127.0.0.1:PORT offering STARTTLS (with CERT/KEY)
and AUTH PLAIN, accepting every message. Each event is appended to LOG as one line:
`tls-ok`, `tls-failed <reason>`, `auth <user> <password>`, `mail <from>`, `message <bytes>`.
Runs until killed.

Usage: fake_smarthost.py PORT CERT KEY LOG
"""

import base64
import socket
import ssl
import sys
import threading

port, cert, key, log = sys.argv[1:5]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
lock = threading.Lock()


def event(text):
    with lock, open(log, "a") as f:
        f.write(text + "\n")


def serve(sock):
    buf = b""

    def line():
        nonlocal buf
        while b"\n" not in buf:
            data = sock.recv(65536)
            if not data:
                raise EOFError
            buf += data
        text, buf = buf.split(b"\n", 1)
        return text.rstrip(b"\r")

    def send(text):
        sock.sendall(text.encode() + b"\r\n")

    send("220 relay.test ESMTP")
    tls = False
    while True:
        command = line()
        verb = command[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            if tls:
                send("250-relay.test\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            else:
                send("250-relay.test\r\n250-STARTTLS\r\n250 8BITMIME")
        elif verb == b"STAR":
            send("220 go ahead")
            try:
                sock = context.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                event(f"tls-failed {e}")
                return
            buf = b""
            tls = True
            event("tls-ok")
        elif verb == b"AUTH":
            parts = command.split()
            decoded = base64.b64decode(parts[2]).split(b"\0")
            event(f"auth {decoded[1].decode()} {decoded[2].decode()} tls={tls}")
            send("235 2.7.0 ok")
        elif verb == b"MAIL":
            event(f"mail {command[10:].decode()}")
            send("250 2.1.0 ok")
        elif verb == b"RCPT":
            send("250 2.1.5 ok")
        elif verb == b"DATA":
            send("354 go")
            size = 0
            while line() != b".":
                size += 1
            event(f"message {size}")
            send("250 2.0.0 queued")
        elif verb == b"QUIT":
            send("221 bye")
            return
        else:
            send("250 ok")


def handle(sock):
    try:
        serve(sock)
    except (EOFError, OSError):
        pass
    finally:
        sock.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(port)))
listener.listen(16)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
