"""SMTP smuggling (the 2023 class): on the MX port and on submission, a message whose body
holds a fake end of data (`\\n.\\n`, `\\r\\n.\\r\\r\\n`, `\\r.\\r\\n`, ...) followed by a second
transaction is answered once, after the real CRLF.CRLF, with a refusal (554); no second
transaction starts (the only other reply is QUIT's 221) and nothing reaches the mailbox. A
clean message still gets through, so at most one message is delivered.

Usage: smtp_smuggling.py LOGIN PASSWORD RCPT RCPT_PASSWORD
Prints "OK" or "FAILED: ..." (exit 1).
"""

import sys

from smtp_common import check, inbox
from smtp_raw import Raw

login, password, rcpt, rcpt_password = sys.argv[1:5]

FAKE_ENDS = [
    b"\n.\n",
    b"\n.\r\n",
    b"\r\n.\n",
    b"\r.\r\n",
    b"\r\n.\r\r\n",
    b"\r\n.\r",
    b"\r.\r",
    b"\r\n\x00.\r\n",
    b"\r\n.\x00\r\n",
]


def smuggle(conn, mail_from, fake_end):
    conn.send(f"MAIL FROM:<{mail_from}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
    conn.expect("250")
    conn.expect("250")
    conn.expect("354")
    second = (
        f"MAIL FROM:<giamdoc@example.org>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n"
        f"From: giamdoc@example.org\r\nSubject: SMUGGLED\r\n\r\nchuyen tien gap\r\n"
    ).encode()
    conn.send(
        b"From: " + mail_from.encode() + b"\r\nSubject: first\r\n\r\nhello"
        + fake_end + second + b"\r\n.\r\nQUIT\r\n"
    )
    replies = conn.rest()
    conn.close()
    check(len(replies) == 2, f"{fake_end!r}: replies {replies}")
    check(replies[0].startswith("554 5.6."), f"{fake_end!r}: {replies[0]!r}")
    check(replies[1].startswith("221"), f"{fake_end!r}: {replies[1]!r}")


for fake_end in FAKE_ENDS:
    smuggle(Raw("smtp"), "a@example.org", fake_end)
    smuggle(Raw("submissions", login, password), login, fake_end)

# BDAT (CHUNKING) is held to the same rule: counted bytes end the content, and a bare LF in
# them is refused like in DATA.
conn = Raw("smtp")
chunk = b"Subject: bdat\r\n\r\nx\n.\nMAIL FROM:<a@example.org>\r\n"
conn.send(f"MAIL FROM:<a@example.org>\r\nRCPT TO:<{rcpt}>\r\n".encode())
conn.send(f"BDAT {len(chunk)} LAST\r\n".encode() + chunk + b"QUIT\r\n")
replies = conn.rest()
conn.close()
check(len(replies) == 4, f"BDAT: {replies}")
check(replies[2].startswith("554 5.6.11") and replies[3].startswith("221"), f"BDAT: {replies}")

# A bare LF or CR where a line should end, without any dot trick, is refused too.
conn = Raw("smtp")
conn.send(f"MAIL FROM:<a@example.org>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
for code in ("250", "250", "354"):
    conn.expect(code)
conn.send(b"Subject: bare\nX: y\r\n\r\nbody\r\n.\r\n")
conn.expect("554 5.6.11")
# The session goes on: a clean message is accepted.
conn.send(f"MAIL FROM:<a@example.org>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
for code in ("250", "250", "354"):
    conn.expect(code)
conn.send(b"Subject: clean\r\n\r\n..dot\r\n.\r\n")
conn.expect("250 2.0.0")
conn.send(b"QUIT\r\n")
conn.expect("221")
conn.close()

messages = inbox(rcpt, rcpt_password)
check(len(messages) == 1, f"{len(messages)} messages delivered: {messages!r}")
check(b"Subject: clean" in messages[0] and b"\r\n.dot\r\n" in messages[0], repr(messages[0]))
check(all(b"SMUGGLED" not in m for m in messages), "the smuggled message arrived")
print("OK")
