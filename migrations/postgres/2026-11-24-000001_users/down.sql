DROP TABLE api_tokens;
DROP TABLE user_sessions;
DROP TABLE users;
