-- Official documents dispatched by a unit to its recipient units (Đ15): one row per document,
-- whose message (one blob, however many units receive it) went to each recipient unit's INBOX
-- in the same transaction. `issued_on` is the document's own date (YYYY-MM-DD), `year` its
-- year: a number (số/ký hiệu) is unique per issuing unit and year. `file_sha256` is the signed
-- file's digest, for verification (Đ14.2). Times are Unix seconds, passed in.
CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    number        TEXT    NOT NULL CHECK (number <> ''),
    issued_on     TEXT    NOT NULL,
    year          INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    summary       TEXT    NOT NULL,
    file_name     TEXT    NOT NULL,
    file_sha256   TEXT    NOT NULL,
    message_id    TEXT    NOT NULL,
    dispatched_by TEXT    NOT NULL,
    dispatched_at INTEGER NOT NULL,
    UNIQUE (unit_id, year, number)
);
CREATE INDEX documents_by_file ON documents (file_sha256);
CREATE INDEX documents_by_message_id ON documents (message_id);
-- One row per recipient unit: where its copy is (the unit mailbox's INBOX and UID), and when it
-- was delivered, first opened (by whom) and acknowledged (by whom).
CREATE TABLE document_recipients (
    document_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    unit_id         INTEGER NOT NULL REFERENCES units(id),
    mailbox_id      INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    uid             INTEGER,
    delivered_at    INTEGER,
    opened_at       INTEGER,
    opened_by       TEXT,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    PRIMARY KEY (document_id, unit_id)
);
-- "Is this message a document?" when a message is first seen.
CREATE INDEX document_recipients_by_message ON document_recipients (mailbox_id, uid);
