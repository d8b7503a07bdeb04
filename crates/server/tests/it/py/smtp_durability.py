"""Test 3 (client side): several concurrent clients deliver to the MX port until the server
dies; every message answered 250 is written to ACKED_FILE (one token per line, flushed at once).

Usage: smtp_durability.py ACKED_FILE RECIPIENT THREADS
Each thread sends messages with the subject "durability t<thread>-<n>" and stops at its first
error (the server is killed under it). Prints the counts at the end.
"""

import smtplib
import sys
import threading

from smtp_common import HOST, port

acked_path, recipient, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
lock = threading.Lock()
acked_file = open(acked_path, "a", buffering=1)
counts = {"acked": 0, "refused": 0, "failed": 0}


def client(thread):
    n = 0
    try:
        smtp = smtplib.SMTP(HOST, port("smtp"), timeout=30)
        smtp.ehlo(f"client{thread}.example.org")
        while n < 100000:
            n += 1
            token = f"t{thread}-{n}"
            # Half the threads reconnect for every message, the others reuse the session.
            if thread % 2 == 1 and n > 1:
                smtp.quit()
                smtp = smtplib.SMTP(HOST, port("smtp"), timeout=30)
                smtp.ehlo(f"client{thread}.example.org")
            message = (
                f"From: <sender{thread}@example.org>\r\n"
                f"To: <{recipient}>\r\n"
                f"Subject: durability {token}\r\n"
                f"\r\n"
                f"Thư số {n} của luồng {thread}.\r\n" + "Nội dung thử nghiệm.\r\n" * (n % 50)
            ).encode("utf-8")
            refused = smtp.sendmail(f"sender{thread}@example.org", [recipient], message)
            with lock:
                if refused:
                    counts["refused"] += 1
                else:
                    acked_file.write(token + "\n")
                    acked_file.flush()
                    counts["acked"] += 1
    except Exception:
        with lock:
            counts["failed"] += 1


workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
acked_file.close()
print(f"acked={counts['acked']} refused={counts['refused']} clients_cut_off={counts['failed']}")
