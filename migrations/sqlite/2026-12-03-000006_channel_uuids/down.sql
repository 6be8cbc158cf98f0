DROP INDEX channels_uuid;
ALTER TABLE channels DROP COLUMN description;
ALTER TABLE channels DROP COLUMN intro;
ALTER TABLE channels DROP COLUMN uuid;
