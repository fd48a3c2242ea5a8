-- The activity log's own database (see LogPath): every API request that
-- named an API key, and its rollup per key and minute. Times are Unix
-- nanoseconds; latency is in microseconds; reason is '' for a success;
-- user_id is 0 for keys that do not exist. usage.minute is a Unix minute;
-- counted is what went against the key's daily quota; records of unknown
-- keys are not rolled up.
CREATE TABLE activity (
	id         INTEGER PRIMARY KEY,
	time       BIGINT  NOT NULL,
	key_id     TEXT    NOT NULL,
	user_id    BIGINT  NOT NULL,
	account_id BIGINT  NOT NULL,
	ip         TEXT    NOT NULL,
	method     TEXT    NOT NULL,
	path       TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	status     INTEGER NOT NULL,
	latency    BIGINT  NOT NULL
);
CREATE INDEX activity_user ON activity (user_id, time);
CREATE INDEX activity_key ON activity (key_id, time);
CREATE INDEX activity_time ON activity (time);

CREATE TABLE usage (
	key_id   TEXT   NOT NULL,
	minute   BIGINT NOT NULL,
	requests BIGINT NOT NULL,
	errors   BIGINT NOT NULL,
	counted  BIGINT NOT NULL,
	PRIMARY KEY (key_id, minute)
) WITHOUT ROWID;
CREATE INDEX usage_minute ON usage (minute);
