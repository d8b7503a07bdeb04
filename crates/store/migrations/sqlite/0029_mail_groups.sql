-- Group addresses: one address whose mail goes to many mailboxes, resolved at delivery time
-- from the directory (the active people of a unit, with `subtree` of its whole subtree; with
-- `heads` only the heads of units, of that unit or subtree, or of every unit when `unit_id` is
-- NULL) plus the hand-made members of `mail_group_addresses`. `senders` says who may write to
-- it: `anyone`, `members`, `province` (signed in through submission) or `named` (the `sender`
-- rows of `mail_group_addresses`). Times are Unix seconds, passed in.
CREATE TABLE mail_groups (
    id          INTEGER PRIMARY KEY,
    address     TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL CHECK (name <> ''),
    unit_id     INTEGER REFERENCES units(id),
    subtree     INTEGER NOT NULL DEFAULT 0,
    heads       INTEGER NOT NULL DEFAULT 0,
    senders     TEXT    NOT NULL CHECK (senders IN ('anyone', 'members', 'province', 'named')),
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
-- The hand-made members (`role = 'member'`) and the named senders (`role = 'sender'`).
CREATE TABLE mail_group_addresses (
    group_id    INTEGER NOT NULL REFERENCES mail_groups(id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('member', 'sender')),
    address     TEXT    NOT NULL,
    PRIMARY KEY (group_id, role, address)
);
