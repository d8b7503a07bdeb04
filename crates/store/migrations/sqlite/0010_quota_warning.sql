-- When the account was last warned that its mailbox is nearly full (SPEC §7); cleared once its
-- use falls below the threshold again, so the next crossing warns again.
ALTER TABLE accounts ADD COLUMN quota_warned_at INTEGER;
