DROP INDEX sessions_live;
DROP TABLE numbers_events;
DROP TABLE numbers_pages;
DROP TABLE numbers_hist;
DROP TABLE numbers_days;
ALTER TABLE sessions DROP COLUMN numbered;
ALTER TABLE sessions DROP COLUMN exit_url;
