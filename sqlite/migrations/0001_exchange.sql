-- 0001: the exchange's money state and history.
--
-- Kept portable to PostgreSQL except for two deliberate choices, both to
-- halve the B-tree writes of every group commit: the single integer keys of
-- orders, trades, transfers and fee_rates are declared INTEGER PRIMARY KEY,
-- which in SQLite is a 64-bit alias of the rowid (PostgreSQL's INTEGER is
-- 32-bit, so its migration says BIGINT there); and the tables with composite
-- keys are WITHOUT ROWID (PostgreSQL has no such clause and needs none). Enums are small integers with the
-- values of the twinex constants; times are Unix nanoseconds.

CREATE TABLE orders (
	id              INTEGER PRIMARY KEY,
	client_order_id TEXT    NOT NULL,
	account_id      BIGINT  NOT NULL,
	session         TEXT    NOT NULL,
	market          TEXT    NOT NULL,
	side            INTEGER NOT NULL,
	order_type      INTEGER NOT NULL,
	exec_option     INTEGER NOT NULL,
	price           BIGINT  NOT NULL,
	stop_price      BIGINT  NOT NULL,
	amount          BIGINT  NOT NULL,
	filled          BIGINT  NOT NULL,
	filled_notional BIGINT  NOT NULL,
	fees            BIGINT  NOT NULL,
	held            BIGINT  NOT NULL,
	maker_bps       BIGINT  NOT NULL,
	taker_bps       BIGINT  NOT NULL,
	status          INTEGER NOT NULL,
	cancel_reason   TEXT    NOT NULL,
	seq             BIGINT  NOT NULL,
	created         BIGINT  NOT NULL,
	updated         BIGINT  NOT NULL
);
-- Orders queries filter by account and walk ids newest first.
CREATE INDEX orders_account ON orders (account_id, id);
-- Look-ups by client order id; orders without one are left out.
CREATE INDEX orders_client_order ON orders (account_id, client_order_id) WHERE client_order_id <> '';
-- Recovery loads open orders (pending 1, live 2) in Seq order; the partial
-- index holds only them, so it stays small however long the history grows.
CREATE INDEX orders_open ON orders (seq) WHERE status IN (1, 2);

CREATE TABLE trades (
	id             INTEGER PRIMARY KEY,
	market         TEXT    NOT NULL,
	price          BIGINT  NOT NULL,
	amount         BIGINT  NOT NULL,
	notional       BIGINT  NOT NULL,
	taker_side     INTEGER NOT NULL,
	maker_order_id BIGINT  NOT NULL,
	taker_order_id BIGINT  NOT NULL,
	maker_account  BIGINT  NOT NULL,
	taker_account  BIGINT  NOT NULL,
	maker_fee      BIGINT  NOT NULL,
	taker_fee      BIGINT  NOT NULL,
	time           BIGINT  NOT NULL
);
CREATE INDEX trades_market ON trades (market, id);
CREATE INDEX trades_maker_account ON trades (maker_account, id);
CREATE INDEX trades_taker_account ON trades (taker_account, id);
CREATE INDEX trades_maker_order ON trades (maker_order_id, id);
CREATE INDEX trades_taker_order ON trades (taker_order_id, id);

CREATE TABLE balances (
	account_id BIGINT NOT NULL,
	currency   TEXT   NOT NULL,
	total      BIGINT NOT NULL,
	held       BIGINT NOT NULL,
	PRIMARY KEY (account_id, currency)
) WITHOUT ROWID;

CREATE TABLE transfers (
	id           INTEGER PRIMARY KEY,
	kind         INTEGER NOT NULL,
	account_id   BIGINT  NOT NULL,
	currency     TEXT    NOT NULL,
	amount       BIGINT  NOT NULL,
	fee          BIGINT  NOT NULL,
	counterparty BIGINT  NOT NULL,
	destination  TEXT    NOT NULL,
	tx_hash      TEXT    NOT NULL,
	client_id    TEXT    NOT NULL,
	method       TEXT    NOT NULL,
	time         BIGINT  NOT NULL
);
-- Transfers queries filter by account and walk ids newest first (ids and
-- times rise together, both handed out by the sequencer).
CREATE INDEX transfers_account ON transfers (account_id, id);

CREATE TABLE supply (
	currency TEXT   PRIMARY KEY,
	net      BIGINT NOT NULL
);

CREATE TABLE fee_rates (
	account_id INTEGER PRIMARY KEY,
	maker_bps  BIGINT NOT NULL,
	taker_bps  BIGINT NOT NULL
);

CREATE TABLE candles (
	market       TEXT   NOT NULL,
	timeframe    TEXT   NOT NULL,
	start        BIGINT NOT NULL,
	open         BIGINT NOT NULL,
	high         BIGINT NOT NULL,
	low          BIGINT NOT NULL,
	close        BIGINT NOT NULL,
	volume       BIGINT NOT NULL,
	quote_volume BIGINT NOT NULL,
	PRIMARY KEY (market, timeframe, start)
) WITHOUT ROWID;

-- counters has a single row, id 1.
CREATE TABLE counters (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	order_id    BIGINT NOT NULL,
	trade_id    BIGINT NOT NULL,
	transfer_id BIGINT NOT NULL,
	seq         BIGINT NOT NULL,
	time        BIGINT NOT NULL
);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
