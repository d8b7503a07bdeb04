"""SEARCH answers of a mailbox, to compare before and after `hopthu store copy`. Arguments:
address password; prints one line per search: the criteria and the UIDs found."""
import sys

from imap_common import imaps, ok

user, password = sys.argv[1], sys.argv[2]
c = imaps(user, password)
ok(c.select("INBOX", readonly=True))
for criteria in (
    ("SUBJECT", "chuyen-kho-2"),
    ("SUBJECT", "hai dat"),
    ("BODY", "dòng 12"),
    ("TEXT", "lưu trữ"),
    ("FROM", "chuyenkho.a"),
):
    c.literal = criteria[1].encode("utf-8")
    typ, data = c.uid("SEARCH", "CHARSET", "UTF-8", criteria[0])
    assert typ == "OK", data
    print(criteria[0], criteria[1], data[0].decode())
c.logout()
