"""A unit mailbox handed over to a new head (Đ12.3), seen over IMAP.

    python3 unit_mailbox_handover.py hold ADDRESS PASSWORD UNIT
        signs in, selects the unit's INBOX, prints "selected N", waits for a line on standard
        input, then sends NOOP and prints "bye: <text>" when the server ended the session, or
        "open" when it did not.
    python3 unit_mailbox_handover.py check NEW_HEAD PW OLD_HEAD PW DELEGATE PW UNIT
        asserts what each sees after the handover; prints "done".
"""
import email
import email.header
import email.policy
import sys
import time

from imap_common import imaps, ok, raw

mode = sys.argv[1]
if mode == "hold":
    address, password, unit = sys.argv[2:5]
    c = imaps(address, password)
    typ, data = c.select('"Shared/%s/INBOX"' % unit)
    assert typ == "OK", (typ, data)
    print("selected %s" % data[0].decode(), flush=True)
    sys.stdin.readline()
    time.sleep(1.2)  # past the server's recheck interval
    tag = c._new_tag()
    c.send(tag + b" NOOP\r\n")
    bye = None
    while True:
        line = c.readline()
        if not line:
            break
        if line.startswith(b"* BYE"):
            bye = line.decode().strip()
        if line.startswith(tag + b" "):
            break
    print("bye: %s" % bye if bye else "open", flush=True)
    sys.exit(0)

new_head, new_pw, old_head, old_pw, delegate, delegate_pw, unit = sys.argv[2:9]
inbox = '"Shared/%s/INBOX"' % unit

# The new head: every message, and the handover notice among them.
c = imaps(new_head, new_pw)
tagged, lines = raw(c, b"MYRIGHTS " + inbox.encode())
assert lines == [b"* MYRIGHTS " + inbox.encode() + b" lrswipkxtea"], lines
typ, data = c.select(inbox)
# Three messages, the notice of the first head's appointment, and the handover's.
assert typ == "OK" and data == [b"5"], (typ, data)
subjects = []
for i in range(1, 6):
    typ, data = c.fetch(str(i), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    raw_subject = data[0][1].decode().split(":", 1)[1].strip()
    subjects.append(str(email.header.make_header(email.header.decode_header(raw_subject))))
assert subjects[:3] == ["Unit message 1", "Unit message 2", "Unit message 3"], subjects
assert all("bàn giao hộp thư điện tử của đơn vị" in s for s in subjects[3:]), subjects
typ, data = c.fetch("5", "(BODY.PEEK[])")
notice = email.message_from_bytes(data[0][1], policy=email.policy.default)
text = notice.get_body(preferencelist=("plain",)).get_content()
assert new_head in text and old_head in text and delegate in text, text
assert "Đ12.3" in text, text
c.logout()

# The former head and the delegate: nothing shared any more.
for address, password in ((old_head, old_pw), (delegate, delegate_pw)):
    c = imaps(address, password)
    tagged, lines = raw(c, b'LIST "" "*"')
    assert not any(b"Shared" in line for line in lines), (address, lines)
    tagged, _ = raw(c, b"MYRIGHTS " + inbox.encode())
    assert b" NO " in tagged, tagged
    c.logout()
print("done")
