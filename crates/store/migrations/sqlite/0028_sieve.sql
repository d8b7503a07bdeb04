-- Per-user Sieve scripts (RFC 5228), run at local delivery, and the RFC 5230 §4.2 record of
-- vacation replies: when one was last sent to a sender for a `:handle`, so "one reply per
-- sender per N days" holds across restarts. At most one script of an account is active: the
-- transaction that activates one deactivates the others, and the partial unique index keeps
-- it so. Both go with the account.
CREATE TABLE sieve_scripts (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    content    TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE UNIQUE INDEX sieve_scripts_one_active ON sieve_scripts (account_id) WHERE active = 1;

CREATE TABLE vacation_replies (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sender     TEXT NOT NULL,
    handle     TEXT NOT NULL,
    sent_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, sender, handle)
);
CREATE INDEX vacation_replies_sent ON vacation_replies (sent_at);
