"""Signs in, IDLEs and prints IDLING; the test then stops the server, which must say
`* BYE` before closing. Prints BYE. Arguments: address password."""
import sys

from imap_common import idle_start, imaps, ok, read_until

user, password = sys.argv[1], sys.argv[2]
conn = imaps(user, password)
ok(conn.select("INBOX"))
idle_start(conn)
print("IDLING", flush=True)
lines = read_until(conn, lambda l: l.startswith(b"* BYE"), timeout=30)
assert conn.readline() == b"", "connection still open after BYE"
print("BYE", flush=True)
