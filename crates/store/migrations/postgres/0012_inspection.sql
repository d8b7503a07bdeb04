-- The inspection role (Đ16): reads what the focal unit reads — the audit log, the reports, the
-- directory and every unit's lifecycle history — and changes nothing. Stored as a focal row
-- marked `inspector`, so the scope check of the focal unit's reads applies unchanged.
ALTER TABLE admins ADD COLUMN inspector BOOLEAN NOT NULL DEFAULT FALSE;

-- The chain's anchors: once a day the head of the audit log (its last row and hash) is
-- recorded here and mailed to the inspectors and the focal unit, so a log rewritten later,
-- however consistent its own hashes, no longer matches what they received.
CREATE TABLE audit_checkpoints (
    day    BIGINT PRIMARY KEY,
    at     BIGINT NOT NULL,
    row_id BIGINT NOT NULL,
    hash   TEXT   NOT NULL
);
