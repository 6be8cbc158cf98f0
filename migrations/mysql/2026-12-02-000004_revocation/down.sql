ALTER TABLE users DROP COLUMN cancel_window_ip;
ALTER TABLE users DROP COLUMN token_generation;
