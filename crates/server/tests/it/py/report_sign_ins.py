"""For the report test: one person of CB25-002 signs in twice a day from Monday 2 March 2026
to Saturday 7 March (written straight into the sign-in history). Argument: the database."""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
monday = 1772384400  # 2026-03-02 00:00 in Vietnam
# Twice on each working day, and twice on the Saturday too (which does not count).
times = [monday + d * 86400 + h * 3600 for d in range(6) for h in (2, 7)]
for t in times:
    db.execute(
        "INSERT INTO sign_ins (account_id, at, via, ip, result) "
        "SELECT p.account_id, ?, 'imap', '127.0.0.1', 'ok' FROM people p "
        "JOIN units u ON u.id = p.unit_id WHERE u.code = 'CB25-002' "
        "AND p.account_id IS NOT NULL ORDER BY p.id LIMIT 1",
        (t,),
    )
db.commit()
