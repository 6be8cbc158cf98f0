-- The emotion diary. created_at is the real instant (UTC); local_date is the diary's day in its
-- time zone (DIARY_TIME_ZONE; "YYYY-MM-DD"), and the unique key on (user_id, local_date) is what allows one diary a day.
CREATE TABLE diaries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emotion_status REAL NOT NULL,
    image TEXT,
    content TEXT NOT NULL,
    is_public BOOLEAN NOT NULL DEFAULT FALSE,
    view_count BIGINT NOT NULL DEFAULT 0,
    like_count BIGINT NOT NULL DEFAULT 0,
    sentence TEXT,
    weather TEXT NOT NULL,
    temperature TEXT,
    humid TEXT,
    sleep TEXT,
    local_date TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT diaries_one_per_day UNIQUE (user_id, local_date)
);
CREATE INDEX diaries_feed ON diaries (is_public, local_date, created_at);
CREATE INDEX diaries_user_created ON diaries (user_id, created_at);

CREATE TABLE diary_likes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    diary_id INTEGER NOT NULL REFERENCES diaries (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT diary_likes_once UNIQUE (diary_id, user_id)
);
CREATE INDEX diary_likes_user ON diary_likes (user_id);

CREATE TABLE diary_views (
    diary_id INTEGER NOT NULL REFERENCES diaries (id) ON DELETE CASCADE,
    viewer_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    counted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (diary_id, viewer_id)
);
CREATE INDEX diary_views_counted_at ON diary_views (counted_at);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    diary_id INTEGER NOT NULL REFERENCES diaries (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    is_edited BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX comments_diary ON comments (diary_id, created_at);
CREATE INDEX comments_user ON comments (user_id);

CREATE TABLE secondary_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    diary_id INTEGER NOT NULL REFERENCES diaries (id) ON DELETE CASCADE,
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    is_edited BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX secondary_comments_diary ON secondary_comments (diary_id, created_at);
CREATE INDEX secondary_comments_comment ON secondary_comments (comment_id);
CREATE INDEX secondary_comments_user ON secondary_comments (user_id);
