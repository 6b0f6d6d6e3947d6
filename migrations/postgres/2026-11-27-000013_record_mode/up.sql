-- Recording on demand (issue 13): `all` records every visitor (as before), `sample` only
-- `sample_percent` % of visitors and/or pages whose path matches one of `sample_urls`
-- (space-separated patterns, `*` for any characters), `standby` nobody until a PM asks.
ALTER TABLE projects ADD COLUMN record_mode TEXT NOT NULL DEFAULT 'all';
ALTER TABLE projects ADD COLUMN sample_percent INTEGER NOT NULL DEFAULT 100;
ALTER TABLE projects ADD COLUMN sample_urls TEXT NOT NULL DEFAULT '';
