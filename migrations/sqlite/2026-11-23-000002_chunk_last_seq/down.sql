DROP INDEX event_chunks_last_seq;
