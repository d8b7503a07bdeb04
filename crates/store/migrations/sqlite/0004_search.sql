-- Full-text search (IMAP SEARCH FROM/TO/CC/BCC/SUBJECT/BODY/TEXT) from an index, never by
-- reading message files.
--
-- `search_text` holds the searchable text of a stored body, once per blob (a notice sent to
-- 300 units is extracted once). The text is already folded by the core
-- (`hopthu_model::text::search_fold`: NFD, marks dropped, đ → d, lower case), so `unicode61`
-- needs no diacritic handling of its own: "dat" finds "Đạt", "hoa" finds "Hòa" and "Hoà".
CREATE TABLE search_text (
    blob_hash TEXT    PRIMARY KEY,
    hfrom     TEXT    NOT NULL,
    hto       TEXT    NOT NULL,
    hcc       TEXT    NOT NULL,
    hbcc      TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    -- The Date header (Unix seconds), for SENTBEFORE/SENTON/SENTSINCE and SORT DATE.
    sent_at   INTEGER
);

-- One index row per message (rowid = messages.id) so that a search is scoped to a mailbox
-- inside the index: the `scope` column holds the token `mb<mailbox id>`. Contentless: the text
-- lives in `search_text`; `contentless_delete` lets a row be removed by its rowid alone.
CREATE VIRTUAL TABLE search_index USING fts5(
    scope, hfrom, hto, hcc, hbcc, subject, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3'
);

-- The index follows the messages table by triggers, so every path that stores, copies, moves
-- or removes a message (deliver, append, copy, move, expunge, mailbox deletion by cascade)
-- keeps it in step in the same transaction. A message whose blob has no `search_text` yet is
-- indexed when the text is added (`index_blob`).
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO search_index (rowid, scope, hfrom, hto, hcc, hbcc, subject, body)
    SELECT new.id, 'mb' || new.mailbox_id, t.hfrom, t.hto, t.hcc, t.hbcc, t.subject, t.body
      FROM search_text t WHERE t.blob_hash = new.blob_hash;
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM search_index WHERE rowid = old.id;
END;

CREATE TRIGGER messages_search_move AFTER UPDATE OF mailbox_id ON messages BEGIN
    DELETE FROM search_index WHERE rowid = old.id;
    INSERT INTO search_index (rowid, scope, hfrom, hto, hcc, hbcc, subject, body)
    SELECT new.id, 'mb' || new.mailbox_id, t.hfrom, t.hto, t.hcc, t.hbcc, t.subject, t.body
      FROM search_text t WHERE t.blob_hash = new.blob_hash;
END;

-- The text goes with the last reference to its blob.
CREATE TRIGGER blobs_search_delete AFTER DELETE ON blobs BEGIN
    DELETE FROM search_text WHERE blob_hash = old.hash;
END;

-- Finding the messages of a blob (indexing text added later, blob references).
CREATE INDEX messages_blob ON messages (blob_hash);
