"""Uploads and activates a Sieve script over ManageSieve (STARTTLS, AUTHENTICATE PLAIN).

Usage: managesieve_put.py ADDRESS PASSWORD NAME SCRIPT
"""

import base64
import os
import socket
import ssl
import sys


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)


def until_final(file):
    while True:
        line = file.readline().decode()
        check(line != "", "connection closed")
        if line.split(" ")[0].strip() in ("OK", "NO", "BYE"):
            return line.strip()


def main():
    address, password, name, script = sys.argv[1:5]
    sock = socket.create_connection((os.environ["HOPTHU_HOST"],
                                     int(os.environ["HOPTHU_MANAGESIEVE_PORT"])), timeout=20)
    file = sock.makefile("rb")
    until_final(file)
    sock.sendall(b"STARTTLS\r\n")
    check(until_final(file).startswith("OK"), "STARTTLS")
    context = ssl.create_default_context(cafile=os.environ["HOPTHU_CERT"])
    context.check_hostname = False
    sock = context.wrap_socket(sock)
    file = sock.makefile("rb")
    until_final(file)
    token = base64.b64encode(f"\0{address}\0{password}".encode()).decode()
    sock.sendall(f'AUTHENTICATE "PLAIN" "{token}"\r\n'.encode())
    check(until_final(file).startswith("OK"), "AUTHENTICATE")
    data = script.encode()
    sock.sendall(f'PUTSCRIPT "{name}" {{{len(data)}+}}\r\n'.encode() + data + b"\r\n")
    final = until_final(file)
    check(final.startswith("OK"), f"PUTSCRIPT: {final}")
    sock.sendall(f'SETACTIVE "{name}"\r\n'.encode())
    final = until_final(file)
    check(final.startswith("OK"), f"SETACTIVE: {final}")
    sock.sendall(b"LOGOUT\r\n")
    until_final(file)
    print("OK")


main()
