-- IMAP SEARCH matches substrings (RFC 3501 §6.4.4, RFC 9051 §6.4.4): "eautiful worl" finds
-- "beautiful world", "ser-fro" finds user-from@example.org. The word index of 0004
-- (`unicode61`, word prefixes) becomes a trigram index over the same folded text: a phrase
-- of trigrams matches exactly where the needle is a substring (see `sqlite/text_index.rs`).

-- The calendar date written in the Date header, in the header's own zone, as days since
-- 1970-01-01 (SENTBEFORE/SENTON/SENTSINCE disregard time and zone). `sent_at` alone lost the
-- zone, so until the background indexer has extracted the header again (`stale`, below) the
-- date is taken in UTC+7, the province's zone.
ALTER TABLE search_text ADD COLUMN sent_day INTEGER;
UPDATE search_text SET sent_day = CASE
        WHEN sent_at + 25200 >= 0 THEN (sent_at + 25200) / 86400
        ELSE -((86399 - (sent_at + 25200)) / 86400)
    END
 WHERE sent_at IS NOT NULL;

-- 1: the text comes from an older extraction; the core's background indexer extracts it
-- again from the body (`Store::unindexed_blobs`, `index_blob`).
ALTER TABLE search_text ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;
UPDATE search_text SET stale = 1;
CREATE INDEX search_text_stale ON search_text (blob_hash) WHERE stale = 1;

DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_delete;
DROP TRIGGER messages_search_move;
DROP TABLE search_index;

-- One row per message (rowid = messages.id), as in 0004. `scope` is the mailbox as three
-- characters of the Private Use Area (U+F0000 + each 16 bits of the id): exactly one
-- trigram, so a look-up reads only the mailbox's own rows (`text_index::scope_token`).
CREATE VIRTUAL TABLE search_index USING fts5(
    scope, hfrom, hto, hcc, hbcc, subject, body,
    content = '', contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1'
);

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO search_index (rowid, scope, hfrom, hto, hcc, hbcc, subject, body)
    SELECT new.id,
           char(0xF0000 + ((new.mailbox_id >> 32) & 0xFFFF),
                0xF0000 + ((new.mailbox_id >> 16) & 0xFFFF), 0xF0000 + (new.mailbox_id & 0xFFFF)),
           t.hfrom, t.hto, t.hcc, t.hbcc, t.subject, t.body
      FROM search_text t WHERE t.blob_hash = new.blob_hash;
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM search_index WHERE rowid = old.id;
END;

CREATE TRIGGER messages_search_move AFTER UPDATE OF mailbox_id ON messages BEGIN
    DELETE FROM search_index WHERE rowid = old.id;
    INSERT INTO search_index (rowid, scope, hfrom, hto, hcc, hbcc, subject, body)
    SELECT new.id,
           char(0xF0000 + ((new.mailbox_id >> 32) & 0xFFFF),
                0xF0000 + ((new.mailbox_id >> 16) & 0xFFFF), 0xF0000 + (new.mailbox_id & 0xFFFF)),
           t.hfrom, t.hto, t.hcc, t.hbcc, t.subject, t.body
      FROM search_text t WHERE t.blob_hash = new.blob_hash;
END;

-- The index rebuilt from the stored text: searches work at once, before any re-extraction.
INSERT INTO search_index (rowid, scope, hfrom, hto, hcc, hbcc, subject, body)
SELECT m.id,
       char(0xF0000 + ((m.mailbox_id >> 32) & 0xFFFF),
            0xF0000 + ((m.mailbox_id >> 16) & 0xFFFF), 0xF0000 + (m.mailbox_id & 0xFFFF)),
       t.hfrom, t.hto, t.hcc, t.hbcc, t.subject, t.body
  FROM messages m JOIN search_text t ON t.blob_hash = m.blob_hash;
