-- Accounts that are not a person of the directory (postmaster, a system or test mailbox), each
-- created by `hopthu account add … --exception REASON` with the reason it is one: one address
-- per person holds for everyone else. `created_at` is Unix seconds, passed in.
CREATE TABLE account_exceptions (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    reason     TEXT    NOT NULL CHECK (reason <> ''),
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
