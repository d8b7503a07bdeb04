-- IMAP `\Recent` (RFC 3501 §2.3.2): the highest UID of a mailbox some session has already
-- been told about. SELECT claims the messages above it (and raises it) in one transaction,
-- so each message is recent in exactly one session, across restarts and nodes.
ALTER TABLE mailboxes ADD COLUMN recent_upto INTEGER NOT NULL DEFAULT 0;
