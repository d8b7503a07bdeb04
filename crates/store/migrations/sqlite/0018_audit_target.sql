-- The console shows one unit mailbox's audit rows (grants, handovers, each delegate's
-- actions), newest first: by target, without reading the whole log.
CREATE INDEX audit_log_target ON audit_log (target, id);
