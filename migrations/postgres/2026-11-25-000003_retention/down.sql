DROP INDEX sessions_retention;
