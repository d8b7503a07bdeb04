-- Bodies the blob collector deleted from a bucket shared by several nodes, and when (Unix
-- milliseconds, passed in): a node that uploaded the same bytes just before the delete asks
-- here after its commit and uploads them again (`gc.rs`, "Several nodes"). Kept a day.
CREATE TABLE blob_deletions (
    blob TEXT PRIMARY KEY,
    at BIGINT NOT NULL
);
CREATE INDEX blob_deletions_by_age ON blob_deletions (at);
