"""Prints the subjects of an account's INBOX messages, one per line, then the raw text of the
messages whose subject contains FILTER (if given), read over IMAPS.

Usage: mta_inbox.py LOGIN PASSWORD [FILTER]
"""

import email
import email.policy
import sys

from smtp_common import inbox

login, password = sys.argv[1:3]
wanted = sys.argv[3] if len(sys.argv) > 3 else None
for raw in inbox(login, password):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    subject = str(msg["Subject"])
    print(f"SUBJECT {subject}")
    if wanted and wanted in subject:
        for part in msg.walk():
            ctype = part.get_content_type()
            print(f"PART {ctype}")
            if ctype == "text/plain":
                print(part.get_content())
            elif ctype == "message/delivery-status":
                for block in part.get_payload():
                    for k, v in block.items():
                        print(f"{k}: {v}")
