-- The ledger's figures per unit are the unit of the time (Đ17): a person who later moves to
-- another unit (a transfer, a reorganisation, a merge) leaves a finished period's figures
-- where they were. Each opening row and each mailbox event now carries the unit the person
-- belonged to when it was written, and a move is itself an event (`moved`, with the new
-- unit), so "active at the end of a period" is counted in the unit of the person's last
-- event at or before the end. Rows written before this carry the unit of today.

-- The unit of the person whose mailbox was opened (NULL: not a person's mailbox).
ALTER TABLE mailbox_opens ADD COLUMN unit_id BIGINT;
UPDATE mailbox_opens o SET unit_id = p.unit_id FROM people p WHERE p.account_id = o.account_id;

ALTER TABLE mailbox_events ADD COLUMN unit_id BIGINT;
UPDATE mailbox_events e SET unit_id = p.unit_id FROM people p WHERE p.id = e.person_id;
ALTER TABLE mailbox_events DROP CONSTRAINT mailbox_events_kind_check;
ALTER TABLE mailbox_events ADD CONSTRAINT mailbox_events_kind_check
    CHECK (kind IN ('created', 'revoked', 'reissued', 'moved'));
