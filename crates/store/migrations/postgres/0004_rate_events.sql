-- Rate-limit events (Đ13.3): failed sign-ins by source, account and account-from-source,
-- recipients submitted per account, success notices per address. One table for every node
-- sharing this database, so a source locked out on one node is locked out on all. UNLOGGED:
-- counters need no crash safety (after a crash they start afresh) and their writes no WAL.
-- `at` is Unix milliseconds, passed in.
CREATE UNLOGGED TABLE rate_events (
    kind SMALLINT NOT NULL,
    key TEXT NOT NULL,
    at BIGINT NOT NULL,
    weight INTEGER NOT NULL
);
CREATE INDEX rate_events_by_key ON rate_events (kind, key, at);
CREATE INDEX rate_events_by_age ON rate_events (at);
