-- Subscriptions are names, not mailboxes (RFC 9051 §6.3.7, RFC 3501 §6.3.6): a subscription
-- outlives the mailbox it named, a client may subscribe to a name before creating it, and
-- LIST (SUBSCRIBED) shows such names as \NonExistent.
CREATE TABLE subscriptions (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

INSERT INTO subscriptions (account_id, name)
    SELECT account_id, name FROM mailboxes WHERE subscribed = 1;

ALTER TABLE mailboxes DROP COLUMN subscribed;

-- A new mailbox starts subscribed, whichever path creates it (CREATE, account set-up, the
-- directory import).
CREATE TRIGGER mailboxes_subscribe AFTER INSERT ON mailboxes BEGIN
    INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (new.account_id, new.name);
END;

-- RENAME carries the subscription to the new name (and so does a parent's rename for each
-- child); a name already subscribed keeps its one row.
CREATE TRIGGER mailboxes_rename_subscription AFTER UPDATE OF name ON mailboxes BEGIN
    UPDATE OR IGNORE subscriptions SET name = new.name
     WHERE account_id = new.account_id AND name = old.name;
    DELETE FROM subscriptions WHERE account_id = new.account_id AND name = old.name;
END;
