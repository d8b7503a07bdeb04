"""APPEND a Vietnamese message and a multipart message with an attachment, then FETCH them:
BODY[] byte for byte, ENVELOPE and BODYSTRUCTURE well-formed, BODY.PEEK[n], MIME, partials,
HEADER.FIELDS, \\Seen set by a non-PEEK fetch (not under EXAMINE), COPY/MOVE with UIDPLUS.
Arguments: address password."""
import re
import sys

from imap_common import fetch_items, imaps, ok, untagged

user, password = sys.argv[1], sys.argv[2]
conn = imaps(user, password)

VIETNAMESE = (
    "Date: Wed, 07 Feb 2024 09:30:00 +0700\r\n"
    "From: Nông Văn Đạt <datnv@caobang.gov.vn>\r\n"
    "To: Nguyễn Thị Hoa <hoant@caobang.gov.vn>\r\n"
    "Subject: Giấy mời họp giao ban tuần\r\n"
    "Message-ID: <giaymoi-1@caobang.gov.vn>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Kính gửi các đồng chí,\r\n"
    "Trân trọng kính mời dự họp giao ban lúc 8 giờ sáng thứ Hai.\r\n"
    "Đạt\r\n"
).encode("utf-8")

ATTACHMENT = bytes(range(256)) * 4
import base64
b64 = base64.encodebytes(ATTACHMENT).replace(b"\n", b"\r\n")
MULTIPART = (
    b"From: =?UTF-8?B?Tmd1eeG7hW4gVGjhu4sgSG9h?= <hoant@caobang.gov.vn>\r\n"
    b"To: datnv@caobang.gov.vn, \"Be Thi Lan\" <lanbt@caobang.gov.vn>\r\n"
    b"Cc: undisclosed-recipients:;\r\n"
    b"Subject: =?UTF-8?B?QsOhbyBjw6FvIHF1w70gSQ==?=\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"ranh-gioi\"\r\n"
    b"\r\n"
    b"This is a multi-part message in MIME format.\r\n"
    b"--ranh-gioi\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"G=E1=BB=ADi anh b=C3=A1o c=C3=A1o qu=C3=BD I.\r\n"
    b"--ranh-gioi\r\n"
    b"Content-Type: application/pdf; name=\"bao-cao.pdf\"\r\n"
    b"Content-Disposition: attachment; filename*=utf-8''B%C3%A1o%20c%C3%A1o.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n" + b64 +
    b"--ranh-gioi--\r\n"
)

data = ok(conn.append("INBOX", None, None, VIETNAMESE))
m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
assert m, data
uidvalidity, uid1 = m.group(1), int(m.group(2))
data = ok(conn.append("INBOX", r"(\Flagged $Important)", '"07-Feb-2024 10:00:00 +0700"', MULTIPART))
uid2 = int(re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0]).group(1))
assert uid2 == uid1 + 1, (uid1, uid2)

# EXAMINE: read-only, and a non-PEEK fetch does not set \Seen.
typ, data = conn.select("INBOX", readonly=True)
assert typ == "OK", data
assert untagged(conn, "READ-ONLY") is not None
typ, data = conn.fetch("1", "(BODY[])")
assert typ == "OK"
assert b"\\Seen" not in ok(conn.fetch("1", "(FLAGS)"))[0]
typ, data = conn.store("1", "+FLAGS", r"(\Seen)")
assert typ == "NO", (typ, data)

typ, data = conn.select("INBOX")
assert typ == "OK" and data == [b"2"], data

# BODY[] is the message byte for byte, and RFC822.SIZE its length.
items = fetch_items(ok(conn.fetch("1", "(RFC822.SIZE BODY.PEEK[])")))
assert items[b"BODY[]"] == VIETNAMESE, items[b"BODY[]"]
assert int(items[b"RFC822.SIZE"]) == len(VIETNAMESE)
items = fetch_items(ok(conn.uid("FETCH", str(uid2), "(UID BODY.PEEK[])")))
assert items[b"BODY[]"] == MULTIPART and int(items[b"UID"]) == uid2

# ENVELOPE: date, subject, from/sender/reply-to, to, cc (a group), message-id.
env = fetch_items(ok(conn.fetch("1", "(ENVELOPE)")))[b"ENVELOPE"]
assert len(env) == 10, env
assert env[0] == b"Wed, 07 Feb 2024 09:30:00 +0700", env[0]
subject = env[1].decode()
assert subject.startswith("=?UTF-8?B?"), subject
import email.header
decoded = str(email.header.make_header(email.header.decode_header(subject)))
assert decoded == "Giấy mời họp giao ban tuần", decoded
frm = env[2][0]
assert frm[2:] == [b"datnv", b"caobang.gov.vn"], frm
assert str(email.header.make_header(email.header.decode_header(frm[0].decode()))) == "Nông Văn Đạt"
assert env[3] == env[2] and env[4] == env[2], env
assert env[5][0][2:] == [b"hoant", b"caobang.gov.vn"], env[5]
assert env[8] is None and env[9] == b"<giaymoi-1@caobang.gov.vn>", env

env = fetch_items(ok(conn.fetch("2", "(ENVELOPE)")))[b"ENVELOPE"]
assert env[1] == b"=?UTF-8?B?QsOhbyBjw6FvIHF1w70gSQ==?=", env[1]
assert [a[2] for a in env[5]] == [b"datnv", b"lanbt"], env[5]
assert env[5][1][0] == b"Be Thi Lan", env[5]
assert env[6][0] == [None, None, b"undisclosed-recipients", None] and env[6][-1] == [None] * 4, env[6]

# BODYSTRUCTURE of the multipart message.
bs = fetch_items(ok(conn.fetch("2", "(BODYSTRUCTURE)")))[b"BODYSTRUCTURE"]
text, pdf = bs[0], bs[1]
assert bs[2] == b"MIXED" and bs[3] == [b"BOUNDARY", b"ranh-gioi"], bs[2:]
assert text[:2] == [b"TEXT", b"PLAIN"] and text[2] == [b"CHARSET", b"utf-8"], text
assert text[5] == b"QUOTED-PRINTABLE" and int(text[7]) == 1, text
assert pdf[:2] == [b"APPLICATION", b"PDF"] and pdf[5] == b"BASE64", pdf
# The CRLF before the boundary belongs to the boundary (RFC 2046 §5.1.1).
assert int(pdf[6]) == len(b64) - 2, (pdf[6], len(b64))
disposition = pdf[8]
assert disposition[0] == b"ATTACHMENT", disposition
filename = disposition[1][1].decode()
assert str(email.header.make_header(email.header.decode_header(filename))) == "Báo cáo.pdf", filename
# BODY is the same without extension data.
body = fetch_items(ok(conn.fetch("2", "(BODY)")))[b"BODY"]
assert body[0] == text[:8] and body[2] == b"MIXED" and len(body) == 3, body
# A single-part message.
bs = fetch_items(ok(conn.fetch("1", "(BODYSTRUCTURE)")))[b"BODYSTRUCTURE"]
assert bs[:3] == [b"TEXT", b"PLAIN", [b"CHARSET", b"utf-8"]] and bs[5] == b"8BIT", bs
assert int(bs[6]) == len(VIETNAMESE.split(b"\r\n\r\n", 1)[1]) and int(bs[7]) == 3, bs

# Sections and partials address the raw bytes.
part1 = b"G=E1=BB=ADi anh b=C3=A1o c=C3=A1o qu=C3=BD I."
items = fetch_items(ok(conn.fetch("2", "(BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2]<0.16> BODY.PEEK[3])")))
assert items[b"BODY[1]"] == part1, items
assert items[b"BODY[1.MIME]"] == b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
assert items[b"BODY[2]<0>"] == b64[:16], items
assert items[b"BODY[3]"] is None, items
items = fetch_items(ok(conn.fetch("1", "(BODY.PEEK[TEXT]<10.20> BODY.PEEK[HEADER.FIELDS (SUBJECT TO)] BODY.PEEK[1])")))
body = VIETNAMESE.split(b"\r\n\r\n", 1)[1]
assert items[b"BODY[TEXT]<10>"] == body[10:30], items
assert items[b"BODY[HEADER.FIELDS (SUBJECT TO)]"] == "To: Nguyễn Thị Hoa <hoant@caobang.gov.vn>\r\nSubject: Giấy mời họp giao ban tuần\r\n\r\n".encode(), items
assert items[b"BODY[1]"] == body
items = fetch_items(ok(conn.fetch("1", "(RFC822.HEADER)")))
assert items[b"RFC822.HEADER"] == VIETNAMESE.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
items = fetch_items(ok(conn.fetch("1", "(BODY.PEEK[HEADER.FIELDS.NOT (DATE FROM TO SUBJECT MESSAGE-ID MIME-VERSION)])")))
assert list(items.values())[0] == b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", items

# Nothing above set \Seen; a non-PEEK BODY[] does, and says so in the same response.
assert b"\\Seen" not in ok(conn.fetch("1:2", "(FLAGS)"))[0]
data = ok(conn.fetch("1", "(BODY[TEXT])"))
items = fetch_items(data)
assert items[b"BODY[TEXT]"] == body and b"\\Seen" in items[b"FLAGS"], items
flags = fetch_items(ok(conn.fetch("2", "(FLAGS)")))[b"FLAGS"]
# \Recent: this session is the first to select the mailbox since the message arrived.
assert set(flags) == {b"\\Flagged", b"$Important", b"\\Recent"}, flags

# STORE, COPY with COPYUID, MOVE, UID EXPUNGE.
items = fetch_items(ok(conn.store("2", "+FLAGS", r"(\Seen)")))
assert set(items[b"FLAGS"]) == {b"\\Flagged", b"$Important", b"\\Seen", b"\\Recent"}, items
assert ok(conn.store("2", "-FLAGS.SILENT", r"($Important)")) == [None]
typ, data = conn.copy("1:2", "Archive")
assert typ == "OK" and re.search(rb"\[COPYUID \d+ 1:2 1:2\]", data[0]), data
typ, data = conn.uid("MOVE", str(uid1), "Trash")
assert typ == "OK", data
copyuid = [l for l in untagged(conn, "OK") if b"COPYUID" in l]
assert copyuid and re.search(rb"COPYUID \d+ %d 1" % uid1, copyuid[0]), copyuid
assert untagged(conn, "EXPUNGE") == [b"1"]
assert ok(conn.status("Archive", "(MESSAGES)"))[0].endswith(b"(MESSAGES 2)")
assert ok(conn.status("Trash", "(MESSAGES UNSEEN)"))[0].endswith(b"(MESSAGES 1 UNSEEN 0)")
typ, data = conn.copy("1", "Khong-co")
assert typ == "NO" and b"TRYCREATE" in data[0], data
try:
    conn.fetch("7", "(FLAGS)")
    raise AssertionError("FETCH of a message that does not exist accepted")
except conn.error as e:
    assert "BAD" in str(e), e
assert ok(conn.uid("FETCH", "999", "(FLAGS)")) == [None]

# A large message (several literal reads and writes) survives the round trip too.
big = b"Subject: lon\r\n\r\n" + b"".join(b"dong %07d \xc4\x90\xe1\xba\xa1t\r\n" % i for i in range(200000))
data = ok(conn.append("INBOX", None, None, big))
big_uid = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0]).group(1).decode()
items = fetch_items(ok(conn.uid("FETCH", big_uid, "(RFC822.SIZE BODY.PEEK[] BODY.PEEK[TEXT]<1000000.20>)")))
assert int(items[b"RFC822.SIZE"]) == len(big) and items[b"BODY[]"] == big
assert items[b"BODY[TEXT]<1000000>"] == big[len(b"Subject: lon\r\n\r\n"):][1000000:1000020]
ok(conn.uid("STORE", big_uid, "+FLAGS.SILENT", r"(\Deleted)"))

ok(conn.store("1", "+FLAGS.SILENT", r"(\Deleted)"))
ok(conn.uid("EXPUNGE", "%d:*" % uid2))
assert untagged(conn, "EXPUNGE") == [b"2", b"1"]
ok(conn.close())
typ, data = conn.select("Archive")
assert data == [b"2"], data
ok(conn.unselect())
conn.logout()
print("OK")
