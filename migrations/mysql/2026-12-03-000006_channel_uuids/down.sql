ALTER TABLE channels DROP INDEX channels_uuid, DROP COLUMN description, DROP COLUMN intro,
    DROP COLUMN uuid;
