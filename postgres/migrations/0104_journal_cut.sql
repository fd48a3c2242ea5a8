-- 0104: the largest sequence the journal's Truncate dropped through (one
-- row), so that a replay from before it is refused rather than silently
-- missing the records between.
CREATE TABLE journal_cut (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	through BIGINT  NOT NULL
);
