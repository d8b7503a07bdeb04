"""SEARCH finds words of PDF and DOCX attachments (the documents the province exchanges), with
the same folding as the rest of the text, whether the message came over SMTP or by APPEND; a
hostile PDF is read in the sandbox, costs at most that child, and its message is stored and
found by its own text. Arguments: address password."""
import imaplib
import io
import smtplib
import sys
import time
import zipfile
import zlib
import email.policy
from email.message import EmailMessage

from imap_common import imaps, ok
from smtp_common import HOST, port

user, password = sys.argv[1], sys.argv[2]


def pdf(lines):
    """A PDF whose text is set in a Type0 font with codes that only its ToUnicode map turns
    into text (as Word and most PDF writers do for Vietnamese)."""
    chars = sorted({c for line in lines for c in line})
    code = {c: 0x20 + i for i, c in enumerate(chars)}
    show = []
    for n, line in enumerate(lines):
        hexed = "".join(f"{code[c]:04X}" for c in line)
        show.append(f"{'72 700 Td' if n == 0 else '0 -14 Td'} <{hexed}> Tj")
    content = zlib.compress(("BT /F1 12 Tf " + " ".join(show) + " ET").encode())
    cmap = ("1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
            f"{len(chars)} beginbfchar\n"
            + "".join(f"<{code[c]:04X}> <{c.encode('utf-16-be').hex().upper()}>\n" for c in chars)
            + "endbfchar\n").encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /TimesNewRoman /Encoding /Identity-H "
        b"/ToUnicode 6 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def docx(paragraphs):
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>" for p in paragraphs)
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           f"<w:body>{body}</w:body></w:document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", xml)
    return buf.getvalue()


# A PDF whose cross-reference table names itself as its previous one: a parser that follows
# /Prev without noticing loops for ever.
LOOP = b"%PDF-1.4\n"
LOOP += b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Prev 9 >>\nstartxref\n9\n%%EOF\n"


def message(subject, text, attachments):
    m = EmailMessage()
    m["From"] = "vanthu@example.org"
    m["To"] = user
    m["Subject"] = subject
    m.set_content(text)
    for name, maintype, subtype, data in attachments:
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes(policy=email.policy.SMTP)


DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
# 1: over SMTP, a signed decision as PDF (by type) and its draft as DOCX.
one = message("Quyết định", "Kính gửi anh chị, văn bản đính kèm.", [
    ("QD-15.pdf", "application", "pdf",
     pdf(["QUYẾT ĐỊNH", "Về việc phê duyệt kế hoạch chuyển đổi số năm 2027"])),
    ("du-thao.docx", *DOCX, docx(["Dự thảo tờ trình", "Sở Tài nguyên và Môi trường"])),
])
with smtplib.SMTP(HOST, port("smtp"), timeout=30) as s:
    s.sendmail("vanthu@example.org", [user], one)
# 2: the hostile PDF, then 3: a DOCX sent as application/octet-stream (known by its name),
# both over SMTP; the server must answer 250 for each.
two = message("Tệp hỏng", "Thư có tệp PDF hỏng vòng lặp.", [("hong.pdf", "application", "pdf", LOOP)])
three = message("Báo cáo", "Xem tệp.", [("bao-cao-quy.docx", "application", "octet-stream",
                                         docx(["Báo cáo tình hình an toàn thông tin quý IV"]))])
with smtplib.SMTP(HOST, port("smtp"), timeout=60) as s:
    s.sendmail("vanthu@example.org", [user], two)
    s.sendmail("vanthu@example.org", [user], three)

conn = imaps(user, password)
# 4: by APPEND, a DOCX whose text says what no other message says.
ok(conn.append("INBOX", None, None, message("Lưu", "Lưu trữ.", [
    ("luu.docx", *DOCX, docx(["Biên bản bàn giao hồ sơ lưu trữ"]))])))
ok(conn.select("INBOX"))


def search(*criteria):
    return [int(x) for x in ok(conn.search("UTF-8", *criteria))[0].split()]


# The messages are stored at once with their own text; the indexer adds the documents' text
# in the background (woken by the delivery). Wait for it, a bounded time.
for _ in range(120):
    if search("BODY", '"ban giao ho so"') == [4] and search("BODY", '"an toan thong tin"') == [3] \
            and search("BODY", '"chuyen doi so"') == [1]:
        break
    ok(conn.noop())
    time.sleep(0.5)
assert search("BODY", '"chuyen doi so"') == [1], search("BODY", '"chuyen doi so"')
assert search("TEXT", '"quyet dinh"') == [1]
assert search("BODY", '"to trinh"') == [1]
assert search("BODY", '"tai nguyen va moi truong"') == [1]
assert search("BODY", '"an toan thong tin"') == [3], search("BODY", '"an toan thong tin"')
assert search("BODY", '"ban giao ho so"') == [4]
assert search("BODY", '"vong lap"') == [2]  # the hostile PDF's own message, by its own text
# Words the message itself has, not its attachment, still count once.
assert search("BODY", '"dinh kem"') == [1]
conn.logout()
print("OK")
