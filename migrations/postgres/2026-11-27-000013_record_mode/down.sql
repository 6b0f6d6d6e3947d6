ALTER TABLE projects DROP COLUMN sample_urls;
ALTER TABLE projects DROP COLUMN sample_percent;
ALTER TABLE projects DROP COLUMN record_mode;
