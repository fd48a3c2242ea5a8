-- 0006: two-factor authentication (TOTP) of dashboard users. secret is the
-- base32 TOTP secret sealed under the master key; enabled is when the user
-- confirmed it with a code (0 while enrolment is unconfirmed); last_step is
-- the time step of the last accepted code, so no code works twice;
-- recovery holds the hashes of the unused recovery codes, one per line.
CREATE TABLE mfa (
	user_id   BIGINT PRIMARY KEY,
	secret    BYTEA  NOT NULL,
	enabled   BIGINT NOT NULL,
	last_step BIGINT NOT NULL,
	recovery  TEXT   NOT NULL
);
