"""Test 3 (after the restart): every token in ACKED_FILE is in the INBOX, read over IMAPS.

Usage: smtp_durability_check.py ACKED_FILE RECIPIENT PASSWORD
"""

import sys

from smtp_common import TOKEN, check, inbox

acked_path, recipient, password = sys.argv[1:4]
acked = [line.strip() for line in open(acked_path) if line.strip()]
present = []
for raw in inbox(recipient, password):
    match = TOKEN.search(raw)
    check(match is not None, f"message without a token: {raw[:200]!r}")
    present.append(match.group(1).decode())
missing = sorted(set(acked) - set(present))
unacked = len(set(present) - set(acked))
print(
    f"acked={len(acked)} stored={len(present)} missing={len(missing)} "
    f"stored_without_ack={unacked} duplicates={len(present) - len(set(present))}"
)
check(not missing, f"acknowledged but lost: {missing[:20]}")
check(len(acked) > 0, "nothing was acknowledged")
print("OK")
