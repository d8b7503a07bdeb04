-- The directory (Đ6, Đ7): the organisation tree, people, aliases and reserved names.
-- Persons, units, aliases and reserved names share one namespace of local parts (R11); an address
-- once given stays in `units.address` / `people.address` even when its account is gone (R12).
-- Times are Unix seconds (UTC).

CREATE TABLE units (
    id             INTEGER PRIMARY KEY,
    -- Stable code from the province's list (CB11-002); imports are keyed by it.
    code           TEXT    NOT NULL UNIQUE,
    -- A kind id of the configuration (department, district, commune…).
    kind           TEXT    NOT NULL,
    -- Vietnamese display name, NFC (Sở Y tế).
    name           TEXT    NOT NULL,
    -- Deferred: an import inserts a whole tree in one statement batch, children before parents.
    parent_id      INTEGER REFERENCES units(id) DEFERRABLE INITIALLY DEFERRED,
    -- The unit address, local@domain.
    address        TEXT    NOT NULL UNIQUE,
    -- The unit mailbox.
    account_id     INTEGER UNIQUE REFERENCES accounts(id) ON DELETE SET NULL,
    -- The head of the unit (thủ trưởng), who owns the unit mailbox (Đ12).
    head_person_id INTEGER REFERENCES people(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    created_at     INTEGER NOT NULL
);
CREATE INDEX units_parent ON units (parent_id);

CREATE TABLE people (
    id         INTEGER PRIMARY KEY,
    -- NFC, cleaned (rule R1).
    full_name  TEXT    NOT NULL,
    unit_id    INTEGER NOT NULL REFERENCES units(id) DEFERRABLE INITIALLY DEFERRED,
    position   TEXT,
    staff_id   TEXT    UNIQUE,
    phone      TEXT,
    -- The one personal address (Đ7.3), local@domain; kept when the person moves or is revoked.
    address    TEXT    NOT NULL UNIQUE,
    account_id INTEGER UNIQUE REFERENCES accounts(id) ON DELETE SET NULL,
    -- active, revoked, reserved (the address is held for this person, no mailbox).
    state      TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked', 'reserved')),
    -- Published in the public directory (Đ6).
    public     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX people_unit ON people (unit_id);

-- Published or legacy forms kept reachable (soittt@ → sotttt@). Full addresses.
CREATE TABLE aliases (
    address    TEXT    PRIMARY KEY,
    target     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Local parts never handed out by the rules, besides the configured reserved names (R11).
CREATE TABLE reserved_names (
    local      TEXT    PRIMARY KEY,
    note       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
