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

-- Unread counts per folder for the folder list, kept by triggers like the usage columns of
-- 0005, so showing them costs one row per folder rather than a scan of a 100,000-message INBOX.
ALTER TABLE mailboxes ADD COLUMN unseen_messages INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET unseen_messages =
    (SELECT COUNT(*) FROM messages WHERE mailbox_id = mailboxes.id AND instr(flags, '\Seen') = 0);

CREATE TRIGGER messages_unseen_insert AFTER INSERT ON messages
WHEN instr(new.flags, '\Seen') = 0 BEGIN
    UPDATE mailboxes SET unseen_messages = unseen_messages + 1 WHERE id = new.mailbox_id;
END;

CREATE TRIGGER messages_unseen_delete AFTER DELETE ON messages
WHEN instr(old.flags, '\Seen') = 0 BEGIN
    UPDATE mailboxes SET unseen_messages = unseen_messages - 1 WHERE id = old.mailbox_id;
END;

CREATE TRIGGER messages_unseen_update AFTER UPDATE OF flags, mailbox_id ON messages
WHEN (instr(old.flags, '\Seen') = 0) <> (instr(new.flags, '\Seen') = 0)
  OR old.mailbox_id <> new.mailbox_id BEGIN
    UPDATE mailboxes SET unseen_messages = unseen_messages - (instr(old.flags, '\Seen') = 0)
     WHERE id = old.mailbox_id;
    UPDATE mailboxes SET unseen_messages = unseen_messages + (instr(new.flags, '\Seen') = 0)
     WHERE id = new.mailbox_id;
END;
