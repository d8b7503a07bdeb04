"""Verifies every DKIM signature of a message with dkimpy (Debian's python3-dkim), the public
keys coming from the records `hopthu dkim record` printed (not from DNS).

Usage: /usr/bin/python3 dkim_verify.py MESSAGE_FILE RECORDS_FILE
Prints "verified N" when all N signatures verify.
"""

import re
import sys

import dkim

message = open(sys.argv[1], "rb").read()
records = {}
for line in open(sys.argv[2], encoding="utf-8"):
    m = re.match(r"(\S+)\s+IN\s+TXT\s+(.*)$", line.strip())
    if m:
        records[m.group(1).lower()] = "".join(re.findall(r'"([^"]*)"', m.group(2))).encode()


def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    return records.get(name.lower().rstrip(".") + ".")


count = len(re.findall(rb"(?im)^DKIM-Signature:", message.split(b"\r\n\r\n", 1)[0]))
if count < 2:
    print(f"FAILED: expected two DKIM-Signature fields, found {count}")
    sys.exit(1)
d = dkim.DKIM(message)
for i in range(count):
    if not d.verify(idx=i, dnsfunc=dnsfunc):
        print(f"FAILED: signature {i} does not verify")
        sys.exit(1)
print(f"verified {count}")
