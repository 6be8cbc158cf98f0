-- Everyone's friend names channels by uuid (its room ids) and describes them with a title (our
-- name), an intro and an optional description. Existing channels get a random (v4) uuid.
ALTER TABLE channels ADD COLUMN uuid VARCHAR(36),
    ADD COLUMN intro TEXT NOT NULL DEFAULT '',
    ADD COLUMN description TEXT;
UPDATE channels SET uuid = gen_random_uuid()::text;
ALTER TABLE channels ALTER COLUMN uuid SET NOT NULL,
    ADD CONSTRAINT channels_uuid UNIQUE (uuid);
