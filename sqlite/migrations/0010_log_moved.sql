-- 0010: the activity log and its usage rollup live in their own file
-- (LogPath) since this version; Open copies any records here into it
-- before this migration drops the tables.
DROP TABLE IF EXISTS activity;
DROP TABLE IF EXISTS usage;
