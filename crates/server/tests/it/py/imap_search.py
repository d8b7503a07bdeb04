"""SEARCH ignores case and Vietnamese diacritics ("dat" finds "Đạt"), in subjects, addresses,
headers and bodies, and combines criteria. Arguments: address password."""
import sys

from imap_common import imaps, ok

user, password = sys.argv[1], sys.argv[2]
conn = imaps(user, password)

MESSAGES = [
    # 1: raw UTF-8 subject, from Đạt.
    ("From: Nông Văn Đạt <datnv@caobang.gov.vn>\r\nTo: hoant@caobang.gov.vn\r\n"
     "Date: Mon, 05 Feb 2024 08:00:00 +0700\r\n"
     "Subject: Đạt gửi báo cáo quý I\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
     "Kính gửi chị Hoa, em gửi báo cáo.\r\n", r"(\Seen)"),
    # 2: RFC 2047 subject, a Vietnamese body in quoted-printable.
    ("From: Bế Thị Lan <lanbt@caobang.gov.vn>\r\nTo: hoant@caobang.gov.vn\r\n"
     "Date: Fri, 09 Feb 2024 08:00:00 +0700\r\nX-Loai: cong-van\r\n"
     "Subject: =?UTF-8?B?R2nhuqV5IG3hu51pIGjhu41w?=\r\n"
     "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
     "M=E1=BB=9Di anh =C4=90=E1=BA=A1t d=E1=BB=B1 h=E1=BB=8Dp.\r\n", r"(\Flagged)"),
    # 3: plain ASCII.
    ("From: Someone <someone@example.org>\r\nTo: hoant@caobang.gov.vn\r\nCc: datnv@caobang.gov.vn\r\n"
     "Date: Tue, 13 Feb 2024 08:00:00 +0000\r\n"
     "Subject: Hello\r\n\r\nNothing to see.\r\n", None),
]
for raw, flags in MESSAGES:
    ok(conn.append("INBOX", flags, None, raw.encode("utf-8")))
ok(conn.select("INBOX"))


def search(*criteria, uid=False):
    if uid:
        data = ok(conn.uid("SEARCH", "CHARSET", "UTF-8", *criteria))
    else:
        data = ok(conn.search("UTF-8", *criteria))
    return [int(x) for x in data[0].split()]


def literal(text):
    """A UTF-8 search string is sent as a literal (imaplib's `literal` attribute)."""
    conn.literal = text.encode("utf-8")
    return None


assert search("ALL") == [1, 2, 3]
assert search("SUBJECT", "dat") == [1]
assert search("SUBJECT", '"BAO CAO"') == [1]
assert search("SUBJECT", '"giay moi"') == [2]
assert search("FROM", "dat") == [1]
assert search("FROM", '"be thi lan"') == [2]
assert search("FROM", "lanbt@caobang") == [2]
assert search("CC", "datnv") == [3]
assert search("BODY", "dat") == [2]
assert search("TEXT", "dat") == [1, 2, 3]
assert search("BODY", '"du hop"') == [2]
assert search("HEADER", "X-Loai", "cong") == [2]
assert search("SEEN") == [1] and search("UNSEEN") == [2, 3]
assert search("FLAGGED") == [2] and search("NOT", "FLAGGED") == [1, 3]
assert search("OR", "SEEN", "FLAGGED") == [1, 2]
assert search("UNSEEN", "FROM", "dat") == []
assert search("SENTSINCE", "9-Feb-2024") == [2, 3]
assert search("SENTBEFORE", "9-Feb-2024") == [1]
assert search("SENTON", "13-Feb-2024") == [3]
assert search("2:*") == [2, 3]
assert search("LARGER", "1", "SMALLER", "100000") == [1, 2, 3]
# This session selected first after the messages arrived: all three are recent here.
assert search("NEW") == [2, 3] and search("OLD") == [] and search("RECENT") == [1, 2, 3]
uids = search("ALL", uid=True)
assert search("UID", "%d:*" % uids[1], uid=True) == uids[1:]
# A UTF-8 literal with diacritics matches text without them, and the other way round.
typ, data = conn.search("UTF-8", "SUBJECT", literal("ĐẠT"))
assert typ == "OK" and data == [b"1"], data
typ, data = conn.search("UTF-8", "BODY", literal("mời anh Đạt"))
assert typ == "OK" and data == [b"2"], data
# Unknown charsets are refused with BADCHARSET.
typ, data = conn._simple_command("SEARCH", "CHARSET", "KOI8-R", "ALL")
assert typ == "NO" and b"BADCHARSET" in data[0], (typ, data)
conn.logout()
print("OK")
