ALTER TABLE channels DROP COLUMN description, DROP COLUMN intro, DROP COLUMN uuid;
