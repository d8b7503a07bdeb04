"""Limits of Đ13.3, with `[limits]` set low by the test (connections_per_ip = 3,
messages_per_hour = 3, auth_failures_per_account = 2, auth_failures_per_ip = 4):

- a 4th simultaneous connection from the same IP gets `421 4.7.0` as its greeting, and a
  connection is accepted again once one closes;
- a user who sent 3 messages in the hour gets `451 4.7.1` at MAIL for the 4th;
- two wrong passwords on one account lock it: even the right password then gets `454 4.7.0`;
- failures from one IP over several logins lock the IP: another account's right password
  gets `454 4.7.0`.

Usage: smtp_limits.py USER_A PASSWORD_A USER_B PASSWORD_B
"""

import base64
import smtplib
import socket
import sys
import time

from smtp_common import HOST, check, port, reply_ok, tls_context

user_a, password_a, user_b, password_b = sys.argv[1:5]


def plain(login, secret):
    return base64.b64encode(f"\0{login}\0{secret}".encode()).decode()


def greeting(sock):
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data.decode()


def submission():
    smtp = smtplib.SMTP(HOST, port("submission"), timeout=30)
    smtp.starttls(context=tls_context())
    smtp.ehlo("client.example")
    return smtp


# Connections per IP (counted over every SMTP listener).
held = []
for _ in range(3):
    sock = socket.create_connection((HOST, port("smtp")), timeout=30)
    check(greeting(sock).startswith("220 "), "greeting of an allowed connection")
    held.append(sock)
extra = socket.create_connection((HOST, port("submission")), timeout=30)
line = greeting(extra)
check(line.startswith("421 4.7.0 ") and "Too many connections" in line, f"4th connection: {line!r}")
extra.close()
held.pop().close()
deadline = time.time() + 10
while True:
    sock = socket.create_connection((HOST, port("smtp")), timeout=30)
    line = greeting(sock)
    sock.close()
    if line.startswith("220 "):
        break
    check(time.time() < deadline, f"connection not released: {line!r}")
    time.sleep(0.05)
for sock in held:
    sock.close()
time.sleep(0.3)
print("connections: 421 4.7.0 beyond 3 per IP, released on close", flush=True)

# Messages per user per hour.
with submission() as smtp:
    smtp.login(user_b, password_b)
    for i in range(3):
        smtp.sendmail(user_b, [user_a], f"From: {user_b}\r\nTo: {user_a}\r\nSubject: {i}\r\n\r\nmessage {i}\r\n")
    code, text = smtp.mail(user_b)
    reply_ok((code, text), 451, "4.7.1")
    check(b"Sending limit" in text, f"451 text: {text!r}")
print("messages per hour: 4th MAIL answered 451 4.7.1", flush=True)

# Failed AUTH per account: 2 failures lock the account, whatever the password.
with submission() as smtp:
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain(user_a, "sai-1")), 535, "5.7.8")
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain(user_a, "sai-2")), 535, "5.7.8")
    code, text = smtp.docmd("AUTH", "PLAIN " + plain(user_a, password_a))
    reply_ok((code, text), 454, "4.7.0")
    check(b"Too many failed sign-ins" in text, f"454 text: {text!r}")
print("AUTH per account: locked after 2 failures (454 4.7.0)", flush=True)

# Failed AUTH per IP: 2 more failures on unknown logins (4 in all) lock the IP.
with submission() as smtp:
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain("khongco1", "x")), 535, "5.7.8")
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain("khongco2", "x")), 535, "5.7.8")
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain(user_b, password_b)), 454, "4.7.0")
print("AUTH per IP: locked after 4 failures (454 4.7.0)", flush=True)
print("OK", flush=True)
