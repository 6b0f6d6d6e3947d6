DROP TABLE event_chunks;
DROP TABLE sessions;
