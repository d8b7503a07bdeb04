-- The blob collector (`gc.rs`) asks of every stored body whether anything still refers to it;
-- `messages` has its index (`messages_blob`), the outbound queue gets one here.
CREATE INDEX queue_blob ON queue (blob_hash);
