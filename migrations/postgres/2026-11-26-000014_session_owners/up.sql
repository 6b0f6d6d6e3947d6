-- Cluster mode (--nats-url): the one hub that records a session and writes its events, with a
-- lease it renews while it does. Another hub takes the session over only once the lease has
-- run out or its holder released it (src/db/owners.rs).
CREATE TABLE session_owners (
    session_id TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);
