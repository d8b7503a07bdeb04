-- Rate-limit events (Đ13.3): failed sign-ins by source, account and account-from-source,
-- recipients submitted per account, success notices per address. Kept in the store so that
-- every node sharing it counts the same events; `at` is Unix milliseconds, passed in.
CREATE TABLE rate_events (
    kind INTEGER NOT NULL,
    key TEXT NOT NULL,
    at INTEGER NOT NULL,
    weight INTEGER NOT NULL
);
CREATE INDEX rate_events_by_key ON rate_events (kind, key, at);
CREATE INDEX rate_events_by_age ON rate_events (at);
