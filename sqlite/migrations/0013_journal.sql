-- 0013: the command journal. The exchange's state tables and history are a
-- projection of the journal (twinex.Journal); journal_state records how far
-- they reach (seq: the last journal record projected) and which journal
-- they were written with, so that recovery replays exactly the records
-- that follow, and never another journal's. It has a single row, id 1.
CREATE TABLE journal_state (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	seq        BIGINT NOT NULL,
	journal_id TEXT   NOT NULL
);
