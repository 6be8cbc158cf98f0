-- Everyone's friend names channels by uuid (its room ids) and describes them with a title (our
-- name), an intro and an optional description. Existing channels get a random (v4) uuid.
ALTER TABLE channels ADD COLUMN uuid VARCHAR(36) NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN intro TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN description TEXT;
UPDATE channels SET uuid = lower(
    hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
    || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2)
    || '-' || hex(randomblob(6)));
CREATE UNIQUE INDEX channels_uuid ON channels (uuid);
