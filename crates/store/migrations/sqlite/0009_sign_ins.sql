-- Sign-in history (SPEC §7, Đ13): every sign-in through IMAP, POP3, SMTP AUTH and the webmail,
-- accepted or refused, so a user can see where their account was used and an operator can
-- investigate. Rows older than 180 days are pruned when a new one is written.
CREATE TABLE sign_ins (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    -- 'imap', 'pop3', 'smtp', 'webmail', 'api'
    via        TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    -- 'ok', 'failed' (wrong password), 'refused' (revoked, expired initial password),
    -- 'throttled' (too many failures: not even checked), 'expired' (a first password not
    -- changed in time), 'must_change' (a right one-time password from a mail client)
    result     TEXT    NOT NULL
);
CREATE INDEX sign_ins_account ON sign_ins (account_id, at);
