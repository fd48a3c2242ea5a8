-- 0105: journal records are stored out of line without compression. They
-- are written once, read back only by a recovery, and deleted at the next
-- checkpoint, so compressing each (pglz, on the server's CPU while the
-- sequencer waits for the append) costs more than the bytes it saves.
ALTER TABLE journal ALTER COLUMN data SET STORAGE EXTERNAL;
