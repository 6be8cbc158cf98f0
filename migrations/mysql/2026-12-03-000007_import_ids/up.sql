-- `ninecloud import`: which row here each row of an original deployment became. A row is
-- written in the same transaction as the rows it maps, so a second run skips exactly what the
-- first one committed. kind: '<source>:<table>', e.g. 'nine-cloud:Users'.
CREATE TABLE import_ids (
    kind VARCHAR(64) NOT NULL,
    source_id VARCHAR(64) NOT NULL,
    target_id BIGINT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (kind, source_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
