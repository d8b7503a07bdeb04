-- Accounts, mailboxes, messages and the outbound queue. Times are Unix seconds (UTC).

CREATE TABLE accounts (
    id                   INTEGER PRIMARY KEY,
    address              TEXT    NOT NULL UNIQUE,
    display_name         TEXT    NOT NULL,
    password_hash        TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1,
    state                TEXT    NOT NULL DEFAULT 'active',
    created_at           INTEGER NOT NULL,
    last_access_at       INTEGER
);

CREATE TABLE mailboxes (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    special_use   TEXT,
    subscribed    INTEGER NOT NULL DEFAULT 1,
    uidvalidity   INTEGER NOT NULL,
    uidnext       INTEGER NOT NULL DEFAULT 1,
    highestmodseq INTEGER NOT NULL DEFAULT 1,
    UNIQUE (account_id, name)
);

-- One row per stored body; messages in many mailboxes share it (a notice to 300 units is one blob).
CREATE TABLE blobs (
    hash     TEXT    PRIMARY KEY,
    size     INTEGER NOT NULL,
    refcount INTEGER NOT NULL
);

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid           INTEGER NOT NULL,
    blob_hash     TEXT    NOT NULL REFERENCES blobs(hash),
    size          INTEGER NOT NULL,
    internal_date INTEGER NOT NULL,
    flags         TEXT    NOT NULL DEFAULT '',
    modseq        INTEGER NOT NULL,
    UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);

-- Expunged UIDs with the modseq of their expunge, so sessions learn of expunges they missed.
CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid        INTEGER NOT NULL,
    modseq     INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);

-- Mail for other domains, accepted from authenticated senders, waiting for delivery.
CREATE TABLE queue (
    id              INTEGER PRIMARY KEY,
    blob_hash       TEXT    NOT NULL REFERENCES blobs(hash),
    mail_from       TEXT    NOT NULL,
    recipients      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
