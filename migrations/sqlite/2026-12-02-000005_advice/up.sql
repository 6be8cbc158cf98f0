-- AI advice on a diary: one answer per diary (asking again replaces it), and one row per
-- answer given, for the per-user daily limit (AI_DAILY_LIMIT). Both go with their diary/user.
CREATE TABLE diary_advice (
    diary_id INTEGER PRIMARY KEY NOT NULL REFERENCES diaries (id) ON DELETE CASCADE,
    advice TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE advice_usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX advice_usage_user ON advice_usage (user_id, created_at);
