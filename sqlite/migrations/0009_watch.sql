-- 0009: watching keys. usage rolls the activity log up per key and minute
-- (Unix minutes); counted is what went against the key's daily quota.
-- Records of unknown keys are not rolled up.
CREATE TABLE usage (
	key_id   TEXT   NOT NULL,
	minute   BIGINT NOT NULL,
	requests BIGINT NOT NULL,
	errors   BIGINT NOT NULL,
	counted  BIGINT NOT NULL,
	PRIMARY KEY (key_id, minute)
) WITHOUT ROWID;
CREATE INDEX usage_minute ON usage (minute);

-- The addresses each key has been used from (authenticated requests).
CREATE TABLE key_ips (
	key_id     TEXT   NOT NULL,
	ip         TEXT   NOT NULL,
	first_seen BIGINT NOT NULL,
	last_seen  BIGINT NOT NULL,
	PRIMARY KEY (key_id, ip)
) WITHOUT ROWID;

-- Alerts; (user_id, dedupe) makes each occurrence one alert.
CREATE TABLE alerts (
	id        INTEGER PRIMARY KEY,
	user_id   BIGINT  NOT NULL,
	key_id    TEXT    NOT NULL,
	kind      TEXT    NOT NULL,
	dedupe    TEXT    NOT NULL,
	ip        TEXT    NOT NULL,
	message   TEXT    NOT NULL,
	created   BIGINT  NOT NULL,
	dismissed BIGINT  NOT NULL,
	UNIQUE (user_id, dedupe)
);
CREATE INDEX alerts_user ON alerts (user_id, created);

-- A user's plan, when an operator assigned one; users without a row are
-- on the free plan.
CREATE TABLE user_plans (
	user_id BIGINT PRIMARY KEY,
	plan    TEXT   NOT NULL
);

-- Keyed fingerprints (HMAC under a key derived from the master key) of
-- API secrets, so that a reported secret finds its key.
CREATE TABLE key_fingerprints (
	fp     BLOB PRIMARY KEY,
	key_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX key_fingerprints_key ON key_fingerprints (key_id);
