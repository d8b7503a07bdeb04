-- "My account is compromised" (Đ13.4) as an incident: the incident that locked the account
-- (`locks_account`), and the agency's written confirmation that the password reset ending it
-- carries: a PDF or an image, its bytes a blob like a message body (kept by the collector while
-- this row names it), one per incident, written in the reset's transaction.
ALTER TABLE incidents ADD COLUMN locks_account BIGINT NOT NULL DEFAULT 0;
CREATE TABLE incident_confirmations (
    incident_id  BIGINT PRIMARY KEY REFERENCES incidents(id),
    blob_hash    TEXT   NOT NULL REFERENCES blobs(hash),
    file_name    TEXT   NOT NULL,
    content_type TEXT   NOT NULL,
    size         BIGINT NOT NULL,
    added_by     TEXT   NOT NULL,
    added_at     BIGINT NOT NULL
);
