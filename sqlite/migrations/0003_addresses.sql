-- 0003: deposit addresses and approved (allowlisted) withdrawal addresses.
-- Times are Unix nanoseconds.

CREATE TABLE deposit_addresses (
	id         INTEGER PRIMARY KEY,
	account_id BIGINT  NOT NULL,
	network    TEXT    NOT NULL,
	currency   TEXT    NOT NULL,
	address    TEXT    NOT NULL,
	label      TEXT    NOT NULL,
	created    BIGINT  NOT NULL,
	-- An address belongs to one account: deposits to it are credited there.
	UNIQUE (network, address)
);
CREATE INDEX deposit_addresses_account ON deposit_addresses (account_id, network, id);

-- A removed entry keeps its row (removed > 0) as history, so the same address
-- may be approved again: the partial unique index covers listed entries only
-- (PostgreSQL has partial indexes too).
CREATE TABLE approved_addresses (
	id         INTEGER PRIMARY KEY,
	account_id BIGINT  NOT NULL,
	network    TEXT    NOT NULL,
	address    TEXT    NOT NULL,
	label      TEXT    NOT NULL,
	memo       TEXT    NOT NULL,
	created    BIGINT  NOT NULL,
	active     BIGINT  NOT NULL,
	removed    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX approved_addresses_listed ON approved_addresses (account_id, network, address) WHERE removed = 0;
