-- Unit mailboxes delegated with rights (Đ12): each row lets a person (their own account) act on a
-- unit's mailbox with the rights named, as the canonical comma list of
-- `hopthu_model::DelegateRights` (`read,manage,send-as,send-on-behalf`; `manage` stored with
-- `read`). A unit mailbox with at least one row no longer signs in with its own password.
-- `granted_at` is Unix seconds, passed in.
CREATE TABLE unit_delegates (
    unit_account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    delegate_account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    rights              TEXT    NOT NULL CHECK (rights <> ''),
    granted_by          TEXT    NOT NULL,
    granted_at          INTEGER NOT NULL,
    PRIMARY KEY (unit_account_id, delegate_account_id),
    CHECK (unit_account_id <> delegate_account_id)
);
-- "What is delegated to me": the person's side.
CREATE INDEX unit_delegates_by_delegate ON unit_delegates (delegate_account_id);
