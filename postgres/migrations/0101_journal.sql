-- 0101: the command journal (twinex.Journal, postgres.Journal): one row per
-- sequenced batch, with the CRC-32C of its data, appended in a durable
-- transaction and deleted by Truncate once a checkpoint covers it.
-- journal_id has a single row naming the journal, so that a projection is
-- never recovered with another journal's records.
CREATE TABLE journal (
	seq  BIGINT PRIMARY KEY,
	crc  BIGINT NOT NULL,
	data BYTEA  NOT NULL
);

CREATE TABLE journal_id (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	value TEXT    NOT NULL
);
