-- 0005: identity verification submissions and their review.
CREATE TABLE identity_submissions (
	user_id    BIGINT PRIMARY KEY,
	legal_name TEXT   NOT NULL,
	birth_date TEXT   NOT NULL,
	country    TEXT   NOT NULL,
	address    TEXT   NOT NULL,
	submitted  BIGINT NOT NULL,
	status     TEXT   NOT NULL,
	reason     TEXT   NOT NULL,
	reviewed   BIGINT NOT NULL
);
CREATE INDEX identity_pending ON identity_submissions (submitted) WHERE status = 'pending';
