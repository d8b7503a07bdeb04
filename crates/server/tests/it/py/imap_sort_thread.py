"""SORT (RFC 5256, DISPLAY of RFC 5957) and THREAD=REFERENCES with imaplib. Text keys sort by
the folded form, the Vietnamese way: "Ân xá" before "Báo cáo", "Đàm" with "dam" (raw UTF-8
bytes would put both after every ASCII letter). Arguments: address password."""
import imaplib
import sys

from imap_common import imaps, ok

user, password = sys.argv[1], sys.argv[2]
conn = imaps(user, password)
assert "SORT" in conn.capabilities and "THREAD=REFERENCES" in conn.capabilities, conn.capabilities


def mail(sender, subject, day, mid, extra="", body="Noi dung.\r\n"):
    return ("From: %s\r\nTo: hoant@caobang.gov.vn\r\nSubject: %s\r\n"
            "Date: %s Feb 2024 08:00:00 +0700\r\nMessage-ID: <%s@caobang.gov.vn>\r\n%s"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s"
            % (sender, subject, day, mid, extra, body)).encode("utf-8")


MESSAGES = [
    mail("Vi Thị Ánh <anhvt@caobang.gov.vn>", "Báo cáo tháng 3", "10", "m1"),
    mail("Đàm Văn Bình <binhdv@caobang.gov.vn>", "Re: Báo cáo tháng 3", "11", "m2",
         "In-Reply-To: <m1@caobang.gov.vn>\r\nReferences: <m1@caobang.gov.vn>\r\n"),
    mail("Hoàng Thị Hòa <hoaht@caobang.gov.vn>", "Giấy mời họp", "9", "m3"),
    mail("Nông Văn Đạt <datnv@caobang.gov.vn>", "[Sở Y tế] Re: Giấy mời họp", "12", "m4",
         "References: <m3@caobang.gov.vn>\r\n", "Noi dung dai.\r\n" * 200),
    mail("Lục Văn Cường <cuonglv@caobang.gov.vn>", "Ân xá", "8", "m5"),
]
for i, raw in enumerate(MESSAGES):
    ok(conn.append("INBOX", r"(\Seen)" if i in (0, 3) else None, None, raw))
ok(conn.select("INBOX"))


def sort(keys, *criteria, uid=False):
    if uid:
        data = ok(conn.uid("SORT", keys, "UTF-8", *criteria))
    else:
        data = ok(conn.sort(keys, "UTF-8", *criteria))
    return [int(x) for x in data[0].split()]


assert sort("(SUBJECT)", "ALL") == [5, 1, 2, 3, 4], sort("(SUBJECT)", "ALL")
assert sort("(DATE)", "ALL") == [5, 3, 1, 2, 4], sort("(DATE)", "ALL")
assert sort("(REVERSE DATE)", "ALL") == [4, 2, 1, 3, 5]
# FROM is the local part of the address (RFC 5256 §3: anhvt, binhdv, cuonglv, datnv, hoaht);
# DISPLAYFROM the name, folded (RFC 5957: Đàm, Hoàng, Lục, Nông, Vi).
assert sort("(FROM)", "ALL") == [1, 2, 5, 4, 3], sort("(FROM)", "ALL")
assert sort("(DISPLAYFROM)", "ALL") == [2, 3, 5, 4, 1]
assert sort("(REVERSE SIZE)", "ALL")[0] == 4
assert sort("(ARRIVAL)", "ALL") == [1, 2, 3, 4, 5]
assert sort("(SUBJECT REVERSE DATE)", "ALL") == [5, 2, 1, 4, 3]
assert sort("(DATE)", "SEEN", uid=True) == [1, 4]
assert sort("(SUBJECT)", "FROM", "dat") == [4]
typ, data = conn.sort("(DATE)", "KOI8-R", "ALL")
assert typ == "NO" and b"BADCHARSET" in data[0], (typ, data)
try:
    conn.sort("(NOSUCHKEY)", "UTF-8", "ALL")
    raise SystemExit("an unknown sort key was accepted")
except imaplib.IMAP4.error as e:
    assert "BAD" in str(e), e

data = ok(conn.thread("REFERENCES", "UTF-8", "ALL"))
assert data[0] == b"(5)(3 4)(1 2)", data
data = ok(conn.uid("THREAD", "REFERENCES", "UTF-8", "SEEN"))
assert data[0] == b"(1)(4)", data
try:
    typ, data = conn.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
    assert typ == "NO", (typ, data)
except imaplib.IMAP4.error as e:
    assert "BAD" in str(e), e
conn.logout()
print("OK")
