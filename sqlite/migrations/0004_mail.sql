-- 0004: the sandbox mailbox. Without an SMTP server, the sandbox keeps its
-- outgoing mail here and shows it on a dashboard page. Times are Unix
-- nanoseconds.

CREATE TABLE mailbox (
	id      INTEGER PRIMARY KEY,
	to_addr TEXT    NOT NULL,
	subject TEXT    NOT NULL,
	text    TEXT    NOT NULL,
	html    TEXT    NOT NULL,
	created BIGINT  NOT NULL
);
-- A recipient's mails, newest first.
CREATE INDEX mailbox_to ON mailbox (to_addr, id);
