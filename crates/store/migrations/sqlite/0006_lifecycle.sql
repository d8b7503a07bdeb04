-- Lifecycle of mailboxes (Đ8): administrators and their scope, change requests that a unit IT
-- officer files and the focal unit decides, the notices sent to units, inactivity warnings, and
-- the append-only audit log. Times are Unix seconds (UTC).

-- When the account was revoked (retention is counted from here); NULL while active.
ALTER TABLE accounts ADD COLUMN revoked_at INTEGER;
-- The first sign-in with a one-time password; it expires some hours after (SPEC §5).
ALTER TABLE accounts ADD COLUMN activated_at INTEGER;

-- Operators of the focal unit (focal = 1, see everything) and unit IT officers (a unit subtree).
CREATE TABLE admins (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    focal      INTEGER NOT NULL DEFAULT 0,
    unit_id    INTEGER REFERENCES units(id),
    granted_by TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    CHECK (focal = 1 OR unit_id IS NOT NULL)
);

CREATE TABLE change_requests (
    id            INTEGER PRIMARY KEY,
    -- new_hire, transfer_in, transfer, resignation, death, retirement, transfer_out, reissue.
    kind          TEXT    NOT NULL,
    -- The unit in whose scope the request is (the person's unit, or the hiring unit).
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    person_id     INTEGER REFERENCES people(id),
    -- JSON: the new person, the target unit…
    payload       TEXT    NOT NULL,
    reason        TEXT    NOT NULL DEFAULT '',
    state         TEXT    NOT NULL CHECK (state IN ('filed', 'approved', 'rejected')),
    filed_by      TEXT    NOT NULL,
    filed_at      INTEGER NOT NULL,
    decided_by    TEXT,
    decided_at    INTEGER,
    decision_note TEXT
);
CREATE INDEX change_requests_state ON change_requests (state, id);

-- Written notices to units (Vietnamese administrative style), numbered per year.
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    year       INTEGER NOT NULL,
    number     INTEGER NOT NULL,
    -- "12/TB-SKHCN"
    reference  TEXT    NOT NULL,
    unit_id    INTEGER NOT NULL REFERENCES units(id),
    subject    TEXT    NOT NULL,
    body_text  TEXT    NOT NULL,
    body_html  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (year, number)
);
CREATE INDEX notices_unit ON notices (unit_id);

-- Warnings sent before an inactivity revocation (Đ8.3): one per account, access period and
-- number of days before.
CREATE TABLE inactivity_warnings (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    since      INTEGER NOT NULL,
    days       INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, since, days)
);

-- Every change by an administrator or the sweep: who, what, when, before/after. Each row's hash
-- is sha256(previous hash + the row), so a removed or altered row breaks the chain.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    before    TEXT,
    after     TEXT,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
