-- 0011: replay marks of keys with time-based nonces. Each state-changing
-- request of such a key is marked here in the same transaction as its
-- effect, until its nonce leaves the time window, so that the same signed
-- request is never applied twice, even across a restart (twinex.KeyReplay).
CREATE TABLE key_replays (
	key_id TEXT   NOT NULL,
	sig    TEXT   NOT NULL,
	until  BIGINT NOT NULL,
	PRIMARY KEY (key_id, sig)
) WITHOUT ROWID;
CREATE INDEX key_replays_until ON key_replays (until);
