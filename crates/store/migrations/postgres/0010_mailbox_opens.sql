-- The ledger of mailbox openings (Đ13.1, Đ17): per account and day (days since 1970-01-01 in
-- the province's time, UTC+7), how many times the mailbox was opened (IMAP SELECT/EXAMINE of
-- INBOX, a POP3 session, the webmail's INBOX). Written as it happens, never rewritten, kept
-- for years (no foreign key: the rows outlive a purged mailbox), so a past period's Đ13.1
-- figure is the same every time it is asked.
CREATE TABLE mailbox_opens (
    account_id BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    opens      BIGINT NOT NULL,
    PRIMARY KEY (account_id, day)
);
CREATE INDEX mailbox_opens_day ON mailbox_opens (day);

-- Messages delivered per account and day (same day as above): into its INBOX (received) or
-- its Sent folder at submission (sent), counted in the delivery's own transaction, with the
-- unit the account belonged to that day. Moving, deleting or appending messages later changes
-- nothing here, so a finished period's "received" and "sent" stay what they were.
CREATE TABLE message_days (
    account_id BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    unit_id    BIGINT,
    received   BIGINT NOT NULL DEFAULT 0,
    sent       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);
CREATE INDEX message_days_day ON message_days (day);
