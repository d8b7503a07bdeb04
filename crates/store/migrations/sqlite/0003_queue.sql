-- The outbound queue, per recipient. `queue` keeps one row per queued message (envelope and
-- blob); `queue_recipients` one row per remote recipient with its own state, attempts and next
-- attempt, so a recipient already delivered is never sent the message again, whatever happens
-- to the others. A `queue` row is removed (and its blob reference released) once every one of
-- its recipients is final ('delivered' or 'reported').

-- DSN parameters of the envelope (RFC 3461 §4.3, §4.4) and whether the delay notice was sent.
ALTER TABLE queue ADD COLUMN envid TEXT;
ALTER TABLE queue ADD COLUMN ret TEXT;
ALTER TABLE queue ADD COLUMN delay_notified INTEGER NOT NULL DEFAULT 0;

CREATE TABLE queue_recipients (
    queue_id        INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
    address         TEXT    NOT NULL,
    -- Lower-case domain of `address`: deliveries are grouped by it (one connection per domain).
    domain          TEXT    NOT NULL,
    -- 'pending': to be tried at next_attempt_at; 'delivered': the remote server answered 250;
    -- 'failed': permanent failure or lifetime over, the bounce is still to be sent;
    -- 'reported': failed and the bounce was sent (or none was wanted).
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- The last reply or error, as shown in `hopthu queue show` and in the bounce.
    last_error      TEXT,
    -- The server that accepted or refused it (DSN Remote-MTA).
    remote_mta      TEXT,
    -- DSN NOTIFY (RFC 3461 §4.1) as given, e.g. 'FAILURE,DELAY'; NULL = default.
    notify          TEXT,
    -- DSN ORCPT (RFC 3461 §4.2), e.g. 'rfc822;a@example.org'.
    orcpt           TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (queue_id, address)
);
CREATE INDEX queue_recipients_due ON queue_recipients (state, next_attempt_at);

-- Entries queued before this migration: one pending row per recipient line.
WITH RECURSIVE split(queue_id, address, rest, created_at) AS (
    SELECT id, '', recipients || char(10), created_at FROM queue
    UNION ALL
    SELECT queue_id,
           substr(rest, 1, instr(rest, char(10)) - 1),
           substr(rest, instr(rest, char(10)) + 1),
           created_at
      FROM split WHERE rest <> ''
)
INSERT OR IGNORE INTO queue_recipients (queue_id, address, domain, next_attempt_at, updated_at)
SELECT queue_id, address, lower(substr(address, instr(address, '@') + 1)), created_at, created_at
  FROM split WHERE address <> '';
