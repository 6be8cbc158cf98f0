-- Access tokens carry the user's token generation: logging out, signing off and changing the
-- password bump it, which revokes every access token issued before. The sign-off cancel
-- window is bound to the address that proved the password.
ALTER TABLE users ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN cancel_window_ip TEXT;
