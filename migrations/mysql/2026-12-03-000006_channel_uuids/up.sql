-- Everyone's friend names channels by uuid (its room ids) and describes them with a title (our
-- name), an intro and an optional description. Existing channels get a UUID().
ALTER TABLE channels ADD COLUMN uuid VARCHAR(36) NULL,
    ADD COLUMN intro VARCHAR(1000) NOT NULL DEFAULT '',
    ADD COLUMN description TEXT NULL;
UPDATE channels SET uuid = UUID();
ALTER TABLE channels MODIFY uuid VARCHAR(36) NOT NULL,
    ADD CONSTRAINT channels_uuid UNIQUE (uuid);
