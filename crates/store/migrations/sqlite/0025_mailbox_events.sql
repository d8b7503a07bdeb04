-- The ledger of personal mailboxes (Đ17): created, revoked and re-issued, each written in the
-- transaction that does it, so "active at the end of a period", "new" and "revoked" are what
-- they were then, not what the directory says now. No foreign key: rows outlive a purge.
CREATE TABLE mailbox_events (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('created', 'revoked', 'reissued'))
);
CREATE INDEX mailbox_events_at ON mailbox_events (at);
-- What the directory already holds: each person created when they were, and revoked when
-- their account was (a purged mailbox's revocation time is gone: taken as its creation, so it
-- counts as inactive throughout, as it is now).
INSERT INTO mailbox_events (at, person_id, kind)
    SELECT created_at, id, 'created' FROM people;
INSERT INTO mailbox_events (at, person_id, kind)
    SELECT COALESCE(a.revoked_at, p.created_at), p.id, 'revoked'
      FROM people p LEFT JOIN accounts a ON a.id = p.account_id
     WHERE p.state <> 'active';
