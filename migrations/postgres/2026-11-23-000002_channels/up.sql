-- Channels of the Everyone's friend chat. The first row is the lobby (no owner), which is also
-- the NINE Cloud community chat. last_seq hands out each channel's message sequence numbers
-- (UPDATE ... SET last_seq = last_seq + 1 takes the row lock, so instances never collide).
CREATE TABLE channels (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    is_lobby BOOLEAN NOT NULL DEFAULT FALSE,
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX channels_owner_id ON channels (owner_id);
INSERT INTO channels (name, is_lobby, created_at, updated_at)
    VALUES ('lobby', TRUE, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC');

CREATE TABLE channel_members (
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user_id ON channel_members (user_id);

CREATE TABLE chat_messages (
    id VARCHAR(24) PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    user_id BIGINT,
    nickname TEXT NOT NULL,
    body TEXT NOT NULL,
    sender VARCHAR(80) NOT NULL,
    client_id VARCHAR(80) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT chat_messages_channel_seq UNIQUE (channel_id, seq),
    CONSTRAINT chat_messages_idempotency UNIQUE (channel_id, sender, client_id)
);
