-- 0005: the dashboard's sign-in state: browser sessions, emailed tokens,
-- verified email addresses, login attempts (for throttling) and the audit
-- log of account events. Times are Unix nanoseconds.

-- A session's id is the hex SHA-256 of the token in the browser's cookie,
-- so a copy of the database cannot be replayed as a cookie.
CREATE TABLE web_sessions (
	id        TEXT    PRIMARY KEY,
	user_id   BIGINT  NOT NULL,
	created   BIGINT  NOT NULL,
	expires   BIGINT  NOT NULL, -- absolute expiry
	last_seen BIGINT  NOT NULL, -- for the idle expiry
	ip        TEXT    NOT NULL,
	mfa_ok    INTEGER NOT NULL  -- the second factor was given in this session
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- Emailed single-use links. hash is the hex SHA-256 of the token in the
-- link; used is when it was used (0 while unused).
CREATE TABLE email_tokens (
	hash    TEXT   PRIMARY KEY,
	user_id BIGINT NOT NULL,
	purpose TEXT   NOT NULL, -- "verify" or "reset"
	created BIGINT NOT NULL,
	expires BIGINT NOT NULL,
	used    BIGINT NOT NULL
);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);

CREATE TABLE email_verified (
	user_id  INTEGER PRIMARY KEY,
	verified BIGINT  NOT NULL
);

CREATE TABLE login_attempts (
	id    INTEGER PRIMARY KEY,
	email TEXT    NOT NULL, -- lower case, as typed (it may have no account)
	ip    TEXT    NOT NULL,
	time  BIGINT  NOT NULL,
	ok    INTEGER NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, time);
CREATE INDEX login_attempts_ip ON login_attempts (ip, time);

CREATE TABLE audit_log (
	id      INTEGER PRIMARY KEY,
	user_id BIGINT  NOT NULL,
	time    BIGINT  NOT NULL,
	ip      TEXT    NOT NULL,
	action  TEXT    NOT NULL,
	detail  TEXT    NOT NULL
);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
