-- The Everyone's friend original's MySQL schema as TypeORM 0.2 makes it (contract
-- everyones-friend-api.md §4): uuid ids as VARCHAR(36), VARCHAR(255) strings, no unique
-- e-mail, and channel_join.email free text (no foreign key to User). `ninecloud import
-- everyones-friend` is tested against databases made from this file.
CREATE TABLE `User` (
    `id` VARCHAR(36) NOT NULL,
    `nickname` VARCHAR(255) NOT NULL,
    `email` VARCHAR(255) NOT NULL,
    `password` VARCHAR(255) NOT NULL,
    `createat` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `channel` (
    `id` VARCHAR(36) NOT NULL,
    `title` VARCHAR(255) NOT NULL,
    `intro` VARCHAR(255) NOT NULL,
    `description` VARCHAR(255) NULL,
    PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `channel_join` (
    `id` VARCHAR(36) NOT NULL,
    `email` VARCHAR(255) NOT NULL,
    `channelId` VARCHAR(36) NULL,
    PRIMARY KEY (`id`),
    CONSTRAINT `FK_channel_join_channel` FOREIGN KEY (`channelId`) REFERENCES `channel` (`id`) ON DELETE NO ACTION ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
