-- 0012: balances, holds and supplies are wide (twinex.Int128): one account,
-- and the exchange as a whole, may hold more than an int64 count of ledger
-- units (about $922M at USD's scale of 10^-10). They are stored as the
-- decimal TEXT of the count, exact at any size; PostgreSQL keeps the same
-- values in NUMERIC columns. SQLite cannot change a column's type, so the
-- two tables are rebuilt with their rows converted. Single order and trade
-- amounts (orders.held included: one order's hold) stay BIGINT.
CREATE TABLE balances_wide (
	account_id BIGINT NOT NULL,
	currency   TEXT   NOT NULL,
	total      TEXT   NOT NULL,
	held       TEXT   NOT NULL,
	PRIMARY KEY (account_id, currency)
) WITHOUT ROWID;
INSERT INTO balances_wide (account_id, currency, total, held)
	SELECT account_id, currency, CAST(total AS TEXT), CAST(held AS TEXT) FROM balances;
DROP TABLE balances;
ALTER TABLE balances_wide RENAME TO balances;

CREATE TABLE supply_wide (
	currency TEXT PRIMARY KEY,
	net      TEXT NOT NULL
);
INSERT INTO supply_wide (currency, net) SELECT currency, CAST(net AS TEXT) FROM supply;
DROP TABLE supply;
ALTER TABLE supply_wide RENAME TO supply;
