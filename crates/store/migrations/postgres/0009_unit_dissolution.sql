-- Units after go-live (Đ6): a unit merged into another or dissolved keeps its row, so that its
-- change requests, notices and documents keep naming it, but leaves the directory. `merged_into`
-- is the unit that took its people, mailbox contents and address (now an alias).
ALTER TABLE units ADD COLUMN dissolved_at BIGINT;
ALTER TABLE units ADD COLUMN merged_into BIGINT REFERENCES units(id) DEFERRABLE INITIALLY DEFERRED;
