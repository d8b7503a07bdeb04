"""Test 2: what must be refused is refused, with the right codes.

- unknown local recipient: 550 5.1.1 at RCPT;
- relay to another domain without AUTH: 550 5.7.1 on the MX port; on submission MAIL itself is
  refused (530 5.7.0) until the sender signs in; after AUTH the same RCPT is accepted;
- AUTH is not offered before STARTTLS and is refused there (530 5.7.0); never on the MX port;
- a bad password: 535 5.7.8; a cancelled exchange (`*`): 501;
- commands pipelined after STARTTLS in plain text are discarded (RFC 3207 §4.2).

Usage: smtp_refusals.py USER PASSWORD
"""

import base64
import smtplib
import socket
import sys

from smtp_common import DOMAIN, HOST, check, port, reply_ok, tls_context

user, password = sys.argv[1:3]


def plain(login, secret):
    return base64.b64encode(f"\0{login}\0{secret}".encode()).decode()


# MX: unknown local recipient and relay.
with smtplib.SMTP(HOST, port("smtp"), timeout=30) as smtp:
    smtp.ehlo("relay.example.org")
    check(not smtp.has_extn("auth"), "AUTH offered on the MX port")
    reply_ok(smtp.mail("someone@example.org"), 250, "2.1.0")
    reply_ok(smtp.rcpt(f"khongco@{DOMAIN}"), 550, "5.1.1")
    reply_ok(smtp.rcpt("victim@example.net"), 550, "5.7.1")
    reply_ok(smtp.rcpt(user), 250, "2.1.5")
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain(user, password)), 502, "5.5.1")
    smtp.starttls(context=tls_context())
    smtp.ehlo("relay.example.org")
    check(not smtp.has_extn("auth"), "AUTH offered on the MX port after STARTTLS")
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain(user, password)), 502, "5.5.1")
print("MX: 550 5.1.1 unknown user, 550 5.7.1 relay, no AUTH", flush=True)

# Submission in plain text: no AUTH offered, AUTH refused, MAIL refused.
with smtplib.SMTP(HOST, port("submission"), timeout=30) as smtp:
    smtp.ehlo("client.example")
    check(smtp.has_extn("starttls"), "STARTTLS not offered")
    check(not smtp.has_extn("auth"), "AUTH offered in plain text")
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain(user, password)), 530, "5.7.0")
    reply_ok(smtp.mail(user), 530, "5.7.0")
    # Under TLS but not signed in: relaying still refused at MAIL.
    smtp.starttls(context=tls_context())
    smtp.ehlo("client.example")
    reply_ok(smtp.mail(user), 530, "5.7.0")
    reply_ok(smtp.rcpt("victim@example.net"), 503, "5.5.1")
    # Bad password, then a cancelled exchange, then the right password with a 334 round.
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain(user, "wrong-password")), 535, "5.7.8")
    try:
        smtp.login(user, "wrong-password")
        check(False, "login with a wrong password succeeded")
    except smtplib.SMTPAuthenticationError as e:
        check(e.smtp_code == 535, f"expected 535, got {e.smtp_code}")
    reply_ok(smtp.docmd("AUTH", "PLAIN"), 334)
    reply_ok(smtp.docmd("*"), 501)
    reply_ok(smtp.docmd("AUTH", "LOGIN"), 334)
    reply_ok(smtp.docmd("*"), 501)
    reply_ok(smtp.docmd("AUTH", "PLAIN"), 334)
    reply_ok(smtp.docmd(plain(user, password)), 235, "2.7.0")
    reply_ok(smtp.docmd("AUTH", "PLAIN " + plain(user, password)), 503, "5.5.1")
    # Signed in: relaying is allowed, unknown local users are still refused.
    reply_ok(smtp.mail(user), 250, "2.1.0")
    reply_ok(smtp.rcpt("someone@example.net"), 250, "2.1.5")
    reply_ok(smtp.rcpt(f"khongco@{DOMAIN}"), 550, "5.1.1")
    reply_ok(smtp.rset(), 250)
print("submission: no AUTH before TLS (530), 535 bad password, 501 cancel, relay after AUTH", flush=True)

# STARTTLS command injection: MAIL pipelined after STARTTLS in plain text must be ignored.
sock = socket.create_connection((HOST, port("smtp")), timeout=30)
reader = sock.makefile("rb")
check(reader.readline().startswith(b"220 "), "no greeting")
sock.sendall(b"EHLO attacker.example\r\n")
while True:
    line = reader.readline()
    check(line.startswith(b"250"), f"EHLO: {line!r}")
    if line.startswith(b"250 "):
        break
sock.sendall(b"STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n")
line = reader.readline()
check(line.startswith(b"220 "), f"STARTTLS: {line!r}")
tls = tls_context().wrap_socket(sock, server_hostname="mail." + DOMAIN)
treader = tls.makefile("rb")
tls.sendall(b"EHLO attacker.example\r\n")
while True:
    line = treader.readline()
    check(line.startswith(b"250"), f"EHLO after TLS: {line!r}")
    if line.startswith(b"250 "):
        break
tls.sendall(f"RCPT TO:<{user}>\r\n".encode())
line = treader.readline()
check(line.startswith(b"503 5.5.1"), f"injected MAIL was used: RCPT answered {line!r}")
tls.sendall(b"QUIT\r\n")
check(treader.readline().startswith(b"221 "), "QUIT")
tls.close()
print("STARTTLS: plain-text commands pipelined after it are discarded", flush=True)
print("OK")
