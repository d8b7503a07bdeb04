"""Appends to INBOX one HTML message (multipart/related) whose body shows three inline images
by cid: (logo@a, chu-ky@b, bieu-do@c), each a few distinct bytes of image/png. Arguments:
address password."""
import base64
import sys

from imap_common import imaps, ok

user, password = sys.argv[1], sys.argv[2]
parts = []
for n, cid in enumerate(["logo@a", "chu-ky@b", "bieu-do@c"]):
    data = base64.b64encode(b"\x89PNG fake image %d" % n).decode()
    parts.append(
        "--REL\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-ID: <{cid}>\r\nContent-Disposition: inline\r\n\r\n{data}\r\n"
    )
html = ('<p>Ba hinh:</p><img src="cid:logo@a"><img src="cid:chu-ky@b">'
        '<img src="cid:bieu-do@c">')
message = (
    "Subject: Ba hinh\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/related; boundary="REL"\r\n\r\n'
    "--REL\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n"
    + "".join(parts) + "--REL--\r\n"
)
c = imaps(user, password)
ok(c.append("INBOX", None, None, message.encode()))
c.logout()
print("OK")
