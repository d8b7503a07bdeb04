-- When a message row was put in its mailbox (delivered, appended, copied or moved there), so
-- the sweep can empty Trash and Junk of what has been there longer than
-- `[lifecycle] trash_days`/`junk_days`. Rows from before this column count from their
-- internal date.
ALTER TABLE messages ADD COLUMN added_at INTEGER;
CREATE INDEX messages_added ON messages (mailbox_id, added_at);
