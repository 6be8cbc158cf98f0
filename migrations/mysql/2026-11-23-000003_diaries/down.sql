DROP TABLE secondary_comments;
DROP TABLE comments;
DROP TABLE diary_views;
DROP TABLE diary_likes;
DROP TABLE diaries;
