-- AI advice on a diary: one answer per diary (asking again replaces it), and one row per
-- answer given, for the per-user daily limit (AI_DAILY_LIMIT). Both go with their diary/user.
CREATE TABLE diary_advice (
    diary_id BIGINT PRIMARY KEY,
    advice MEDIUMTEXT NOT NULL,
    model VARCHAR(200) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT diary_advice_diary FOREIGN KEY (diary_id) REFERENCES diaries (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE advice_usage (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT advice_usage_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    INDEX advice_usage_user (user_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
