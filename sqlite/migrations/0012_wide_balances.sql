-- 0012: balances, holds and supplies are wide (twinex.Int128): one account,
-- and the exchange as a whole, may hold more than an int64 count of ledger
-- units (about $922M at USD's scale of 10^-10). They are stored as the
-- decimal TEXT of the count, exact at any size; PostgreSQL keeps the same
-- values in NUMERIC columns. SQLite cannot change a column's type, so the
-- tables are rebuilt with their rows converted. Single order and trade
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

-- A candle's quote volume is a sum of trade notionals, wide for the same
-- reason; the base volume stays BIGINT (saturating at 9.2e18 amount units).
CREATE TABLE candles_wide (
	market       TEXT   NOT NULL,
	timeframe    TEXT   NOT NULL,
	start        BIGINT NOT NULL,
	open         BIGINT NOT NULL,
	high         BIGINT NOT NULL,
	low          BIGINT NOT NULL,
	close        BIGINT NOT NULL,
	volume       BIGINT NOT NULL,
	quote_volume TEXT   NOT NULL,
	PRIMARY KEY (market, timeframe, start)
) WITHOUT ROWID;
INSERT INTO candles_wide (market, timeframe, start, open, high, low, close, volume, quote_volume)
	SELECT market, timeframe, start, open, high, low, close, volume, CAST(quote_volume AS TEXT) FROM candles;
DROP TABLE candles;
ALTER TABLE candles_wide RENAME TO candles;
