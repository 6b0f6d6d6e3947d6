-- Cluster mode: each claim of a session gets a fresh epoch, and a write of its events is stored
-- only while the writing hub's claim (owner and epoch) still holds, checked in the write's own
-- transaction: a hub that lost the session (paused past its lease, say) cannot write after
-- another hub took it over (src/db/owners.rs, "fencing").
ALTER TABLE session_owners ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
