-- Outbound work is claimed before it is sent: a node writes its id and a lease end on each
-- recipient it takes, so two nodes sharing a database never send to the same recipient at
-- once, and a node that dies leaves its recipients to be taken again when the lease ends.
ALTER TABLE queue_recipients ADD COLUMN lease_owner TEXT;
ALTER TABLE queue_recipients ADD COLUMN lease_until INTEGER;
