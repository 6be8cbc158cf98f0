-- The emotion diary. created_at is the real instant (UTC); local_date is the diary's day in its
-- time zone (DIARY_TIME_ZONE), and the unique key on (user_id, local_date) is what allows one diary a day.
CREATE TABLE diaries (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    emotion_status DOUBLE NOT NULL,
    image TEXT NULL,
    content MEDIUMTEXT NOT NULL,
    is_public BOOLEAN NOT NULL DEFAULT FALSE,
    view_count BIGINT NOT NULL DEFAULT 0,
    like_count BIGINT NOT NULL DEFAULT 0,
    sentence TEXT NULL,
    weather VARCHAR(16) NOT NULL,
    temperature VARCHAR(16) NULL,
    humid VARCHAR(16) NULL,
    sleep VARCHAR(16) NULL,
    local_date DATE NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    CONSTRAINT diaries_one_per_day UNIQUE (user_id, local_date),
    INDEX diaries_feed (is_public, local_date, created_at),
    INDEX diaries_user_created (user_id, created_at),
    CONSTRAINT diaries_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE diary_likes (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    diary_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    CONSTRAINT diary_likes_once UNIQUE (diary_id, user_id),
    INDEX diary_likes_user (user_id),
    CONSTRAINT diary_likes_diary_fk FOREIGN KEY (diary_id) REFERENCES diaries (id) ON DELETE CASCADE,
    CONSTRAINT diary_likes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE diary_views (
    diary_id BIGINT NOT NULL,
    viewer_id BIGINT NOT NULL,
    counted_at DATETIME(6) NOT NULL,
    PRIMARY KEY (diary_id, viewer_id),
    INDEX diary_views_counted_at (counted_at),
    CONSTRAINT diary_views_diary_fk FOREIGN KEY (diary_id) REFERENCES diaries (id) ON DELETE CASCADE,
    CONSTRAINT diary_views_viewer_fk FOREIGN KEY (viewer_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE comments (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    diary_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    content TEXT NOT NULL,
    is_edited BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    INDEX comments_diary (diary_id, created_at),
    INDEX comments_user (user_id),
    CONSTRAINT comments_diary_fk FOREIGN KEY (diary_id) REFERENCES diaries (id) ON DELETE CASCADE,
    CONSTRAINT comments_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE secondary_comments (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    diary_id BIGINT NOT NULL,
    comment_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    content TEXT NOT NULL,
    is_edited BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    INDEX secondary_comments_diary (diary_id, created_at),
    INDEX secondary_comments_comment (comment_id),
    INDEX secondary_comments_user (user_id),
    CONSTRAINT secondary_comments_diary_fk FOREIGN KEY (diary_id) REFERENCES diaries (id) ON DELETE CASCADE,
    CONSTRAINT secondary_comments_comment_fk FOREIGN KEY (comment_id) REFERENCES comments (id) ON DELETE CASCADE,
    CONSTRAINT secondary_comments_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
