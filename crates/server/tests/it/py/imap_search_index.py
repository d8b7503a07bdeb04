"""SEARCH answered from the index: bodies in windows-1258 (quoted-printable) and base64 HTML,
RFC 2047 names, "hoa" finding both "Hòa" (precomposed) and "Hoà" (decomposed marks),
prefixes and phrases (substrings: see imap_search_substring.py), and every criterion combined with flags; ESEARCH counts. Arguments:
address password."""
import imaplib
import sys
import unicodedata

from imap_common import imaps, ok, untagged

user, password = sys.argv[1], sys.argv[2]
conn = imaps(user, password)

MESSAGES = [
    # 1: windows-1258, quoted-printable: "Kính gửi anh Đạt" with combining marks.
    (b"From: =?windows-1258?Q?B=EA=EC_Thi=F2_Lan?= <lanbt@caobang.gov.vn>\r\n"
     b"To: datnv@caobang.gov.vn\r\nSubject: =?UTF-8?Q?K=E1=BA=BF_ho=E1=BA=A1ch_n=C4=83m?=\r\n"
     b"Content-Type: text/plain; charset=windows-1258\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
     b"K=EDnh g=FD=D2i anh =D0a=F2t, pho=CCng T=F4=D2 ch=FD=ECc.\r\n"),
    # 2: base64 HTML, precomposed "Hòa".
    ("From: Hòa <hoa@caobang.gov.vn>\r\nTo: lanbt@caobang.gov.vn\r\nSubject: Lịch họp\r\n"
     "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode()
     + __import__("base64").encodebytes("<p>Chị <b>Hòa</b> chủ trì họp giao ban</p>".encode())),
    # 3: decomposed "Hoà" in a plain UTF-8 body.
    ("From: Someone <x@example.org>\r\nSubject: Thông báo\r\n\r\n"
     + unicodedata.normalize("NFD", "Anh Hoà nghỉ phép") + "\r\n").encode(),
]
for raw in MESSAGES:
    ok(conn.append("INBOX", None, None, raw))
ok(conn.select("INBOX"))


def search(*criteria):
    return [int(x) for x in ok(conn.search("UTF-8", *criteria))[0].split()]


assert search("BODY", "dat") == [1], search("BODY", "dat")
assert search("BODY", '"phong to chuc"') == [1]
assert search("FROM", '"be thi lan"') == [1]
assert search("SUBJECT", '"ke hoach"') == [1]
assert search("BODY", "hoa") == [2, 3]
assert search("FROM", "hoa") == [2]
assert search("TEXT", "hoa") == [1, 2, 3]  # "hoạch" in 1's subject starts with "hoa"
assert search("BODY", '"chu tri hop"') == [2]
assert search("BODY", "giao") == [2]
assert search("BODY", "gia") == [2]  # a prefix (a substring)
assert search("BODY", '"ban giao"') == []  # words in another order
assert search("OR", "BODY", "dat", "FROM", "hoa") == [1, 2]
assert search("NOT", "BODY", "hoa") == [1]
assert search("TO", "lanbt") == [2]
conn.literal = "HÒA".encode()
typ, data = conn.search("UTF-8", "BODY", None)
assert typ == "OK" and data == [b"2 3"], data
# ESEARCH over the same index.
imaplib.Commands.setdefault("ESEARCH", ("SELECTED",))
typ, _ = conn._simple_command("SEARCH", "RETURN", "(COUNT MIN)", "TEXT", "hoa")
assert typ == "OK"
assert untagged(conn, "ESEARCH")[0].endswith(b"MIN 1 COUNT 3"), conn.untagged_responses
conn.logout()
print("OK")
