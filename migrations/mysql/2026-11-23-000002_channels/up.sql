-- Channels of the Everyone's friend chat. The first row is the lobby (no owner), which is also
-- the NINE Cloud community chat. last_seq hands out each channel's message sequence numbers
-- (UPDATE ... SET last_seq = last_seq + 1 takes the row lock, so instances never collide).
CREATE TABLE channels (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_id BIGINT NULL,
    is_lobby BOOLEAN NOT NULL DEFAULT FALSE,
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    INDEX channels_owner_id (owner_id),
    CONSTRAINT channels_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO channels (name, is_lobby, created_at, updated_at)
    VALUES ('lobby', TRUE, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6));

CREATE TABLE channel_members (
    channel_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (channel_id, user_id),
    INDEX channel_members_user_id (user_id),
    CONSTRAINT channel_members_channel_fk FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE,
    CONSTRAINT channel_members_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE chat_messages (
    id VARCHAR(24) NOT NULL PRIMARY KEY,
    channel_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    user_id BIGINT NULL,
    nickname TEXT NOT NULL,
    body TEXT NOT NULL,
    sender VARCHAR(80) NOT NULL,
    client_id VARCHAR(80) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT chat_messages_channel_seq UNIQUE (channel_id, seq),
    CONSTRAINT chat_messages_idempotency UNIQUE (channel_id, sender, client_id),
    CONSTRAINT chat_messages_channel_fk FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
