DROP TABLE session_access;
