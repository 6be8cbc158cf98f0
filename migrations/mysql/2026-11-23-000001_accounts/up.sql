-- utf8mb4 throughout; indexed text is VARCHAR (an e-mail address is at most 320 characters),
-- everything users write is TEXT, so nothing is cut at 191 characters as in the original.
CREATE TABLE users (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(320) NOT NULL,
    username TEXT NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    profile_img TEXT,
    user_type VARCHAR(16) NOT NULL DEFAULT 'Common',
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    deletion_due_at DATETIME(6) NULL,
    cancel_window_until DATETIME(6) NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    INDEX users_deletion_due_at (deletion_due_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE refresh_tokens (
    token_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    INDEX refresh_tokens_user_id (user_id),
    CONSTRAINT refresh_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE signup_codes (
    email VARCHAR(320) NOT NULL PRIMARY KEY,
    code VARCHAR(32) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
