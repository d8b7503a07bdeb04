-- Incidents (Đ10.3, Đ11.2): what a user or a unit IT officer reports (a mailbox that misbehaves,
-- a suspicious message, an account thought compromised), its handling and its resolution. The
-- reporter's unit is kept as it was when filed, for the report (Đ17). Times are Unix seconds.
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY,
    reporter    TEXT    NOT NULL,
    unit_id     INTEGER REFERENCES units(id),
    summary     TEXT    NOT NULL CHECK (summary <> ''),
    details     TEXT    NOT NULL DEFAULT '',
    happened_at INTEGER,
    message_ref TEXT,
    category    TEXT    NOT NULL,
    severity    TEXT    NOT NULL CHECK (severity IN ('low', 'normal', 'high')),
    status      TEXT    NOT NULL CHECK (status IN ('new', 'in_progress', 'waiting', 'resolved')),
    assignee    TEXT,
    escalated   INTEGER NOT NULL DEFAULT 0,
    deadline_at INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    note        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX incidents_created ON incidents (created_at);
