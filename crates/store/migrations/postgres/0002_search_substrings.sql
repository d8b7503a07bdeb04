-- IMAP SEARCH matches substrings (RFC 3501 §6.4.4, RFC 9051 §6.4.4), as SQLite migration
-- 0014 does: `search_text` keeps each field as folded text and `pg_trgm` GIN indexes answer
-- `LIKE '%needle%'` over it (see `postgres/text_index.rs`). The word columns go.
DROP INDEX search_text_from;
DROP INDEX search_text_to;
DROP INDEX search_text_subject;
DROP INDEX search_text_body;
ALTER TABLE search_text DROP COLUMN w_from, DROP COLUMN w_to, DROP COLUMN w_cc,
    DROP COLUMN w_bcc, DROP COLUMN w_subject;

-- The calendar date written in the Date header, in the header's own zone, as days since
-- 1970-01-01 (SENTBEFORE/SENTON/SENTSINCE disregard time and zone). Until the background
-- indexer has extracted the header again (`stale`), it is taken in UTC+7, the province's zone.
ALTER TABLE search_text ADD COLUMN sent_day BIGINT;
UPDATE search_text SET sent_day = CASE
        WHEN sent_at + 25200 >= 0 THEN (sent_at + 25200) / 86400
        ELSE -((86399 - (sent_at + 25200)) / 86400)
    END
 WHERE sent_at IS NOT NULL;

-- 1: the text comes from an older extraction (here the body was kept as words only); the
-- core's background indexer extracts it again from the body. Meanwhile the words still
-- answer most searches.
ALTER TABLE search_text ADD COLUMN stale BIGINT NOT NULL DEFAULT 1;
ALTER TABLE search_text ALTER COLUMN stale SET DEFAULT 0;
CREATE INDEX search_text_stale ON search_text (blob_hash) WHERE stale = 1;

CREATE INDEX search_text_from ON search_text USING gin (hfrom gin_trgm_ops);
CREATE INDEX search_text_to ON search_text USING gin (hto gin_trgm_ops);
CREATE INDEX search_text_cc ON search_text USING gin (hcc gin_trgm_ops);
CREATE INDEX search_text_bcc ON search_text USING gin (hbcc gin_trgm_ops);
CREATE INDEX search_text_subject ON search_text USING gin (subject gin_trgm_ops);
CREATE INDEX search_text_body ON search_text USING gin (body gin_trgm_ops);
