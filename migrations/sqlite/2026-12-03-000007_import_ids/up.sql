-- `ninecloud import`: which row here each row of an original deployment became. A row is
-- written in the same transaction as the rows it maps, so a second run skips exactly what the
-- first one committed. kind: '<source>:<table>', e.g. 'nine-cloud:Users'.
CREATE TABLE import_ids (
    kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, source_id)
);
