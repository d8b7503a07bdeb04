-- Personal contacts (CardDAV, RFC 6352, and the webmail's contacts page): one vCard per row,
-- named by the last segment of its URL (`name`, e.g. `abc.vcf`), unique per account, and by its
-- UID, unique among the account's live cards. Each account's address book has a version
-- (`contact_books.version`) raised by every change; a card keeps the version of its last
-- change, and a deleted card stays as a tombstone (`deleted = 1`, empty vCard) so a client's
-- sync token (RFC 6578) learns of the deletion. Times are Unix seconds.
CREATE TABLE contact_books (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL
);
CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL CHECK (name <> ''),
    uid        TEXT    NOT NULL,
    vcard      TEXT    NOT NULL,
    etag       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, name)
);
CREATE UNIQUE INDEX contacts_live_uid ON contacts (account_id, uid) WHERE deleted = 0;
CREATE INDEX contacts_version ON contacts (account_id, version);
