"""SEARCH matches substrings (RFC 3501 §6.4.4, RFC 9051 §6.4.4: "Messages that contain the
specified string in ..."), after case and Vietnamese diacritics are folded: inside words,
across words, in every text key (FROM, TO, CC, BCC, SUBJECT, BODY, TEXT, HEADER), with
needles shorter than a trigram, with LIKE/FTS special characters taken literally, and the
empty string in everything. Dates disregard time and time zone: SENT* the calendar date
written in the Date header, BEFORE/ON/SINCE the internal date, and without a valid Date
header the internal date. Arguments: address password."""
import sys

from imap_common import imaps, ok

user, password = sys.argv[1], sys.argv[2]
conn = imaps(user, password)

# (message, internal date or None)
MESSAGES = [
    # 1: the RFC's kind of example; its Date is the 7th where it was written, the 8th in UTC.
    ("From: User From <user-from@example.org>\r\nTo: Some Body <somebody@example.net>\r\n"
     "Cc: carbon-copy@example.com\r\nBcc: blind.copy@example.com\r\n"
     "Date: Wed, 7 Feb 2024 23:30:00 -0800\r\nX-Custom: the middle value\r\n"
     "Subject: Beautiful World\r\n\r\nThe quick brown fox jumps over the lazy dog.\r\n",
     '"08-Feb-2024 12:00:00 +0000"'),
    # 2: Vietnamese; its Date is the 8th where it was written, the 7th in UTC.
    ("From: Nông Văn Đạt <datnv@caobang.gov.vn>\r\nTo: hoant@caobang.gov.vn\r\n"
     "Date: Thu, 8 Feb 2024 00:30:00 +0700\r\n"
     "Subject: Họp Hòa An về ngân sách\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
     "Giảm 50% chi phí; mã a_b; anh nói \"được\".\r\n",
     '"07-Feb-2024 12:00:00 +0000"'),
    # 3: no Date header: SENT* use the internal date.
    ("From: x@example.org\r\nSubject: 500 units\r\n\r\nab\r\n",
     '"10-Mar-2024 12:00:00 +0000"'),
    # 4: a Date header that is not a date: the internal date too.
    ("From: y@example.org\r\nDate: sometime soon\r\nSubject: axb\r\n\r\nnothing\r\n",
     '"11-Mar-2024 12:00:00 +0000"'),
]
for raw, date in MESSAGES:
    ok(conn.append("INBOX", None, date, raw.encode("utf-8")))
ok(conn.select("INBOX"))


def search(*criteria):
    return [int(x) for x in ok(conn.search("UTF-8", *criteria))[0].split()]


def literal(text):
    """A search string sent as a literal (for quotes and non-ASCII)."""
    conn.literal = text.encode("utf-8")
    return None


def search_literal(key, text):
    typ, data = conn.search("UTF-8", key, literal(text))
    assert typ == "OK", (typ, data)
    return [int(x) for x in data[0].split()]


# Inside words and across them, in every text key.
assert search("SUBJECT", '"eautiful worl"') == [1]
assert search("SUBJECT", '"EAUTIFUL WORL"') == [1]
assert search("FROM", '"ser-fro"') == [1]
assert search("FROM", '"er From <user"') == [1]
assert search("TO", '"omebody@example.n"') == [1]
assert search("CC", '"bon-cop"') == [1]
assert search("BCC", '"ind.cop"') == [1]
assert search("BODY", '"ick brown f"') == [1]
assert search("TEXT", '"azy do"') == [1]
assert search("TEXT", '"autiful"') == [1]
assert search("HEADER", "From", '"ser-fro"') == [1]
assert search("HEADER", "X-Custom", '"iddle val"') == [1]
assert search("SUBJECT", '"world beautiful"') == []
assert search("BODY", '"eautiful"') == []  # in the subject only
# HEADER name "" matches every message that has the header.
assert search("HEADER", "X-Custom", '""') == [1]
assert search("HEADER", "Date", '""') == [1, 2, 4]
assert search("HEADER", "X-Missing", '""') == []
# The empty string is in every text.
assert search("SUBJECT", '""') == [1, 2, 3, 4]
# Vietnamese: case and diacritics folded, then substrings.
assert search("SUBJECT", '"oa an"') == [2]
assert search_literal("SUBJECT", "HÒA AN VỀ") == [2]
assert search("SUBJECT", '"gan sa"') == [2]
assert search("FROM", '"ng van da"') == [2]
assert search("FROM", '"tnv@caob"') == [2]
# Shorter than a trigram: found by a scan, still substrings.
assert search("SUBJECT", "wo") == [1]
assert search("SUBJECT", "x") == [4]
assert search("BODY", "ab") == [3]
assert search("FROM", "y@") == [4]
assert search("TEXT", "zq") == []
# Characters special to LIKE or to FTS5 are plain characters.
assert search("BODY", '"50%"') == [2]
assert search("SUBJECT", '"50%"') == []
assert search("BODY", '"0%"') == [2]
assert search("SUBJECT", '"0_u"') == []
assert search("BODY", '"a_b"') == [2]
assert search("SUBJECT", '"a_b"') == []
assert search("SUBJECT", '"a%b"') == []
assert search_literal("BODY", 'nói "được"') == [2]
assert search_literal("BODY", '"duoc"') == [2]
assert search_literal("BODY", '" OR "') == []
assert search("BODY", '"brown*"') == []
# Combined with other keys.
assert search("OR", "FROM", '"ser-fro"', "BODY", "ab") == [1, 3]
assert search("NOT", "SUBJECT", '"eautiful"') == [2, 3, 4]

# Dates disregard time and zone. SENT*: the date written in the Date header.
assert search("SENTON", "7-Feb-2024") == [1]
assert search("SENTON", "8-Feb-2024") == [2]
assert search("SENTBEFORE", "8-Feb-2024") == [1]
assert search("SENTSINCE", "8-Feb-2024") == [2, 3, 4]
# Without a valid Date header, the internal date.
assert search("SENTON", "10-Mar-2024") == [3]
assert search("SENTON", "11-Mar-2024") == [4]
# BEFORE/ON/SINCE: the internal date.
assert search("ON", "8-Feb-2024") == [1]
assert search("ON", "7-Feb-2024") == [2]
assert search("BEFORE", "8-Feb-2024") == [2]
assert search("SINCE", "8-Feb-2024") == [1, 3, 4]
conn.logout()
print("OK")
