-- The per-domain Bayesian spam classifier (`crate::spam`): how many messages of each class a
-- domain's users have taught it, how often each token was seen in each, and what each message
-- (by the SHA-256 of its body) was learnt as, so moving it back and forth counts once.
CREATE TABLE bayes_totals (
    domain TEXT PRIMARY KEY,
    spam BIGINT NOT NULL DEFAULT 0,
    ham BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE bayes_tokens (
    domain TEXT NOT NULL,
    token TEXT NOT NULL,
    spam BIGINT NOT NULL DEFAULT 0,
    ham BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (domain, token)
);
CREATE TABLE bayes_learned (
    domain TEXT NOT NULL,
    message_hash TEXT NOT NULL,
    class SMALLINT NOT NULL,
    learned_at BIGINT NOT NULL,
    PRIMARY KEY (domain, message_hash)
);
