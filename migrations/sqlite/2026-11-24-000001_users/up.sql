-- Dashboard users and how they prove who they are. Passwords are Argon2id PHC strings; sign-in
-- cookies and API tokens are stored only as SHA-256 hex digests, so a copy of the database
-- holds nothing that signs anyone in.
CREATE TABLE users (
    username TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    -- 'admin' or 'member'.
    role TEXT NOT NULL DEFAULT 'admin',
    created_at BIGINT NOT NULL
);

-- Server-side sign-in sessions: signing out deletes the row, so the cookie dies with it.
CREATE TABLE user_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    -- The CSRF token the dashboard echoes in `X-CSRF-Token` on state-changing requests.
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (username);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (username);
