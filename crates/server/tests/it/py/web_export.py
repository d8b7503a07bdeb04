"""Export and import through the webmail, checked against IMAP: each message downloaded as
.eml is byte for byte what FETCH BODY[] returns; the folder's mbox, imported into a new
folder, gives the same bytes and internal dates; a malformed upload and an upload without
the CSRF token are refused and change nothing. Arguments: address password cookie csrf
inbox-id."""
import base64
import http.client
import os
import re
import sys

from imap_common import imaps, ok

user, password, cookie, csrf, inbox = sys.argv[1:6]
HOST = os.environ["HOPTHU_HOST"]
PORT = int(os.environ["HOPTHU_HTTP_PORT"])


def request(method, path, body=None, content_type=None):
    c = http.client.HTTPConnection(HOST, PORT, timeout=30)
    headers = {"Cookie": cookie}
    if content_type:
        headers["Content-Type"] = content_type
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def upload(mailbox, files, with_csrf=True):
    boundary = "----hopthu-test-boundary-7f3a"
    parts = []
    if with_csrf:
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
                      % (boundary, csrf)).encode())
    for name, data in files:
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name)).encode()
                     + data + b"\r\n")
    parts.append(("--%s--\r\n" % boundary).encode())
    return request("POST", "/mail/%s/import" % mailbox, b"".join(parts),
                   "multipart/form-data; boundary=%s" % boundary)


SUBJECT = base64.b64encode("Công văn số 12 về kế hoạch".encode()).decode()
PLAIN = (b"Return-Path: <ext@example.org>\r\nFrom: ext@example.org\r\nTo: " + user.encode()
         + b"\r\nSubject: Plain\r\nDate: Thu, 04 Dec 2025 08:00:00 +0700\r\n\r\nHello\r\n"
         b"From the start of a line\r\n>From already quoted\r\n>>From twice\r\nend\r\n")
VIETNAMESE = ("From: =?UTF-8?Q?Nguy=E1=BB=85n_V=C4=83n_An?= <an@example.org>\r\nTo: " + user
              + "\r\nSubject: =?UTF-8?B?" + SUBJECT + "?=\r\nMIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
              "\r\nKính gửi các đơn vị,\r\nFrom nay xin lưu ý.\r\n").encode()
THIRD = b"From: c@example.org\r\nSubject: Third\r\n\r\nline\r\n\r\n\r\n"
MESSAGES = [
    (PLAIN, "04-Dec-2025 08:00:00 +0700"),
    (VIETNAMESE, "15-Jan-2026 14:30:05 +0000"),
    (THIRD, "01-Mar-2026 23:59:59 +0700"),
]

c = imaps(user, password)
for raw, date in MESSAGES:
    ok(c.append("INBOX", None, '"%s"' % date, raw))


def folder(name):
    """(uid, BODY[], INTERNALDATE) of every message of a folder, in UID order."""
    ok(c.select(name, readonly=True))
    typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
    assert typ == "OK", data
    bodies = {}
    for item in data:
        if isinstance(item, tuple):
            bodies[int(re.search(rb"UID (\d+)", item[0]).group(1))] = item[1]
    typ, data = c.uid("FETCH", "1:*", "(INTERNALDATE)")
    assert typ == "OK", data
    dates = {}
    for item in data:
        if isinstance(item, bytes) and b"INTERNALDATE" in item:
            dates[int(re.search(rb"UID (\d+)", item).group(1))] = \
                re.search(rb'INTERNALDATE "([^"]+)"', item).group(1)
    return [(uid, bodies[uid], dates[uid]) for uid in sorted(bodies)]


originals = folder("INBOX")
assert [m[1] for m in originals] == [m[0] for m in MESSAGES], originals

# Each message as .eml, byte for byte.
for uid, raw, _ in originals:
    status, headers, body = request("GET", "/mail/%s/%d/eml" % (inbox, uid))
    assert status == 200, (status, body[:300])
    assert headers["content-type"] == "message/rfc822", headers
    disposition = headers["content-disposition"]
    assert disposition.startswith("attachment;") and '.eml"' in disposition, disposition
    assert body == raw, (uid, body, raw)
status, _, _ = request("GET", "/mail/%s/999/eml" % inbox)
assert status == 404, status

# The folder as mboxrd.
status, headers, mbox = request("GET", "/mail/%s/mbox" % inbox)
assert status == 200, (status, mbox[:300])
assert headers["content-type"] == "application/mbox", headers
assert "attachment" in headers["content-disposition"], headers
assert mbox.startswith(b"From ext@example.org Thu Dec  4 01:00:00 2025\n"), mbox[:80]
assert b"\n>From the start of a line\r\n>>From already quoted\r\n>>>From twice\r\n" in mbox, mbox
assert b"\nFrom MAILER-DAEMON Thu Jan 15 14:30:05 2026\n" in mbox, mbox
assert b"\n>From nay" in mbox, mbox
assert mbox.endswith(b"line\r\n\r\n\r\n\n"), mbox[-40:]

ok(c.create("Imported"))
ok(c.create("FromEml"))
status, _, page = request("GET", "/mail/%s" % inbox)
assert status == 200
page = page.decode()
assert 'href="/mail/%s/mbox"' % inbox in page and 'href="/mail/%s/import"' % inbox in page
ids = dict((name, mid) for mid, name in
           re.findall(r'href="/mail/(\d+)"[^>]*>\s*([A-Za-z]+)', page))
imported, from_eml = ids["Imported"], ids["FromEml"]
status, _, reading = request("GET", "/mail/%s/%d" % (inbox, originals[0][0]))
assert 'href="/mail/%s/%d/eml"' % (inbox, originals[0][0]) in reading.decode()
status, _, form = request("GET", "/mail/%s/import" % imported)
assert status == 200 and 'enctype="multipart/form-data"' in form.decode(), form


def count(name):
    typ, data = c.status(name, "(MESSAGES)")
    assert typ == "OK", data
    return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))


# A malformed upload is refused, clearly, and changes nothing.
status, _, body = upload(imported, [("thu.mbox", b"not an mbox\r\n")])
assert status == 400, (status, body[:300])
assert "không phải tệp mbox" in body.decode(), body.decode()
broken = mbox + b"From x Thu Jan  1 00:00:00 1970\n\x00\x01 binary junk\n\n"
status, _, body = upload(imported, [("hop-thu.mbox", broken)])
assert status == 400 and "thư thứ 4" in body.decode(), (status, body.decode())
status, _, body = upload(imported, [("a.eml", MESSAGES[0][0]), ("b.eml", b"")])
assert status == 400 and "b.eml" in body.decode(), (status, body.decode())
assert count("Imported") == 0
# Without the CSRF token: refused, nothing imported.
status, _, body = upload(imported, [("hop-thu.mbox", mbox)], with_csrf=False)
assert status == 403, (status, body[:300])
assert count("Imported") == 0

# The round trip: the mbox imported gives the same bytes and dates.
status, headers, body = upload(imported, [("hop-thu.mbox", mbox)])
assert status == 303, (status, body[:500])
copies = folder("Imported")
assert [m[1] for m in copies] == [m[1] for m in originals], copies
assert [m[2] for m in copies] == [m[2] for m in originals], (copies, originals)

# .eml files keep their bytes.
status, _, body = upload(from_eml, [("a.eml", MESSAGES[0][0]), ("b.eml", MESSAGES[1][0])])
assert status == 303, (status, body[:500])
assert [m[1] for m in folder("FromEml")] == [MESSAGES[0][0], MESSAGES[1][0]]
c.logout()
print("OK")
