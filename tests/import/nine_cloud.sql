-- The NINE Cloud original's MySQL schema as Prisma 5.7 pushes it (contract ninecloud-api.md
-- §2.1): String is VARCHAR(191), DateTime is DATETIME(3), Boolean is TINYINT(1), every foreign
-- key cascades, and `diaries.EmotionalStatus` is an INT column (Prisma calls it EmotionStatus).
-- `ninecloud import nine-cloud` is tested against databases made from this file.
CREATE TABLE `Users` (
    `userId` INT NOT NULL AUTO_INCREMENT,
    `username` VARCHAR(191) NOT NULL,
    `password` VARCHAR(191) NOT NULL,
    `email` VARCHAR(191) NULL,
    `profileImg` VARCHAR(191) NULL DEFAULT 'https://finaldrawings.s3.ap-northeast-2.amazonaws.com/default-profile.avif',
    `userType` VARCHAR(191) NOT NULL DEFAULT 'Common',
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `deletedAt` DATETIME(3) NULL,
    UNIQUE INDEX `Users_email_key`(`email`),
    PRIMARY KEY (`userId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `diaries` (
    `diaryId` INT NOT NULL AUTO_INCREMENT,
    `UserId` INT NOT NULL,
    `EmotionalStatus` INT NOT NULL,
    `image` VARCHAR(191) NULL,
    `content` VARCHAR(191) NOT NULL,
    `isPublic` BOOLEAN NOT NULL DEFAULT false,
    `viewCount` INT NOT NULL DEFAULT 0,
    `likeCount` INT NOT NULL DEFAULT 0,
    `sentence` VARCHAR(191) NULL,
    `weather` VARCHAR(191) NOT NULL,
    `temperature` VARCHAR(191) NULL,
    `humid` VARCHAR(191) NULL,
    `sleep` VARCHAR(191) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `deletedAt` DATETIME(3) NULL,
    PRIMARY KEY (`diaryId`),
    CONSTRAINT `diaries_UserId_fkey` FOREIGN KEY (`UserId`) REFERENCES `Users`(`userId`) ON DELETE CASCADE ON UPDATE CASCADE
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `comments` (
    `commentId` INT NOT NULL AUTO_INCREMENT,
    `DiaryId` INT NOT NULL,
    `UserId` INT NOT NULL,
    `content` VARCHAR(191) NOT NULL,
    `isEdited` BOOLEAN NOT NULL DEFAULT false,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `deletedAt` DATETIME(3) NULL,
    PRIMARY KEY (`commentId`),
    CONSTRAINT `comments_DiaryId_fkey` FOREIGN KEY (`DiaryId`) REFERENCES `diaries`(`diaryId`) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT `comments_UserId_fkey` FOREIGN KEY (`UserId`) REFERENCES `Users`(`userId`) ON DELETE CASCADE ON UPDATE CASCADE
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `DiaryLikes` (
    `diarylikeId` INT NOT NULL AUTO_INCREMENT,
    `UserId` INT NOT NULL,
    `DiaryId` INT NOT NULL,
    `likeExist` BOOLEAN NOT NULL DEFAULT false,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    PRIMARY KEY (`diarylikeId`),
    CONSTRAINT `DiaryLikes_UserId_fkey` FOREIGN KEY (`UserId`) REFERENCES `Users`(`userId`) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT `DiaryLikes_DiaryId_fkey` FOREIGN KEY (`DiaryId`) REFERENCES `diaries`(`diaryId`) ON DELETE CASCADE ON UPDATE CASCADE
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `secondaryComments` (
    `secondaryCommentId` INT NOT NULL AUTO_INCREMENT,
    `DiaryId` INT NOT NULL,
    `UserId` INT NOT NULL,
    `CommentId` INT NOT NULL,
    `content` VARCHAR(191) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `deletedAt` DATETIME(3) NULL,
    PRIMARY KEY (`secondaryCommentId`),
    CONSTRAINT `secondaryComments_DiaryId_fkey` FOREIGN KEY (`DiaryId`) REFERENCES `diaries`(`diaryId`) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT `secondaryComments_UserId_fkey` FOREIGN KEY (`UserId`) REFERENCES `Users`(`userId`) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT `secondaryComments_CommentId_fkey` FOREIGN KEY (`CommentId`) REFERENCES `comments`(`commentId`) ON DELETE CASCADE ON UPDATE CASCADE
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
