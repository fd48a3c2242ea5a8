-- 0002: users, their accounts (Gemini's master group) and API keys.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	identity      TEXT    NOT NULL,
	created       BIGINT  NOT NULL
);

-- Account ids are ledger account ids: they start at 100 (twinex.FirstUserAccountID).
CREATE TABLE accounts (
	id       INTEGER PRIMARY KEY,
	user_id  BIGINT  NOT NULL,
	name     TEXT    NOT NULL,
	nickname TEXT    NOT NULL,
	type     TEXT    NOT NULL,
	created  BIGINT  NOT NULL,
	UNIQUE (user_id, nickname)
);

-- Secrets are sealed with AES-256-GCM under the master key, bound to the key id.
CREATE TABLE api_keys (
	id                TEXT    PRIMARY KEY,
	user_id           BIGINT  NOT NULL,
	account_id        BIGINT  NOT NULL,
	master            INTEGER NOT NULL,
	label             TEXT    NOT NULL,
	roles             INTEGER NOT NULL,
	allowlist         TEXT    NOT NULL,
	require_heartbeat INTEGER NOT NULL,
	time_nonce        INTEGER NOT NULL,
	secret            BLOB    NOT NULL,
	prev_secret       BLOB    NOT NULL,
	prev_until        BIGINT  NOT NULL,
	created           BIGINT  NOT NULL,
	expires           BIGINT  NOT NULL,
	revoked           BIGINT  NOT NULL,
	last_nonce        TEXT    NOT NULL,
	last_used         BIGINT  NOT NULL,
	last_ip           TEXT    NOT NULL,
	-- use_seq orders the writes of last_nonce: a write carrying an older
	-- use never replaces a newer one, so the stored mark cannot go back.
	use_seq           BIGINT  NOT NULL
);
CREATE INDEX api_keys_user ON api_keys (user_id, created);
