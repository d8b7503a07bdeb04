-- The ledger's figures per unit are the unit of the time (Đ17): a person who later moves to
-- another unit (a transfer, a reorganisation, a merge) leaves a finished period's figures
-- where they were. Each opening row and each mailbox event now carries the unit the person
-- belonged to when it was written, and a move is itself an event (`moved`, with the new
-- unit), so "active at the end of a period" is counted in the unit of the person's last
-- event at or before the end. Rows written before this carry the unit of today.

-- The unit of the person whose mailbox was opened (NULL: not a person's mailbox).
ALTER TABLE mailbox_opens ADD COLUMN unit_id INTEGER;
UPDATE mailbox_opens
   SET unit_id = (SELECT p.unit_id FROM people p WHERE p.account_id = mailbox_opens.account_id);

-- SQLite cannot change a CHECK constraint: the table is written anew with its rows (same ids).
CREATE TABLE mailbox_events_new (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('created', 'revoked', 'reissued', 'moved')),
    unit_id   INTEGER
);
INSERT INTO mailbox_events_new (id, at, person_id, kind, unit_id)
    SELECT e.id, e.at, e.person_id, e.kind,
           (SELECT p.unit_id FROM people p WHERE p.id = e.person_id)
      FROM mailbox_events e;
DROP TABLE mailbox_events;
ALTER TABLE mailbox_events_new RENAME TO mailbox_events;
CREATE INDEX mailbox_events_at ON mailbox_events (at);
