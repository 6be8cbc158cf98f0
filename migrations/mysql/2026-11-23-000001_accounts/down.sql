DROP TABLE signup_codes;
DROP TABLE refresh_tokens;
DROP TABLE users;
