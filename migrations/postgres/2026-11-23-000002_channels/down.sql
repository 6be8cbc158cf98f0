DROP TABLE chat_messages;
DROP TABLE channel_members;
DROP TABLE channels;
