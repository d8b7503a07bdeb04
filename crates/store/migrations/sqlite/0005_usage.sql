-- Storage use per mailbox (QUOTA, RFC 9208), kept by triggers so that a quota check before
-- APPEND costs one row per folder rather than a sum over every message.
ALTER TABLE mailboxes ADD COLUMN used_bytes    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN used_messages INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET
    used_bytes    = (SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = mailboxes.id),
    used_messages = (SELECT COUNT(*) FROM messages WHERE mailbox_id = mailboxes.id);

CREATE TRIGGER messages_usage_insert AFTER INSERT ON messages BEGIN
    UPDATE mailboxes SET used_bytes = used_bytes + new.size, used_messages = used_messages + 1
     WHERE id = new.mailbox_id;
END;

CREATE TRIGGER messages_usage_delete AFTER DELETE ON messages BEGIN
    UPDATE mailboxes SET used_bytes = used_bytes - old.size, used_messages = used_messages - 1
     WHERE id = old.mailbox_id;
END;

CREATE TRIGGER messages_usage_move AFTER UPDATE OF mailbox_id ON messages BEGIN
    UPDATE mailboxes SET used_bytes = used_bytes - old.size, used_messages = used_messages - 1
     WHERE id = old.mailbox_id;
    UPDATE mailboxes SET used_bytes = used_bytes + new.size, used_messages = used_messages + 1
     WHERE id = new.mailbox_id;
END;
