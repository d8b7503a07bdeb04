-- The webmail: sign-in sessions kept server-side (only a SHA-256 of the cookie's token is
-- stored, so a copy of the database opens no session) and per-account preferences.
CREATE TABLE web_sessions (
    token_hash   TEXT    PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions (account_id);

CREATE TABLE web_settings (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    language   TEXT    NOT NULL DEFAULT 'vi',
    signature  TEXT    NOT NULL DEFAULT ''
);
