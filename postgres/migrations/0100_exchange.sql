-- 0100: the exchange's money state and history (twinex.ExchangeStore), a
-- projection of the command journal (0101), and journal_state, how far the
-- projection reaches. Numbered from 100 so that the exchange store's
-- migrations and the other stores' never take each other's numbers.
--
-- The tables are SQLite's 0001_exchange.sql, 0013_journal.sql, with
-- PostgreSQL's types: ids, amounts and times are BIGINT (PostgreSQL's
-- INTEGER is 32-bit); enums are SMALLINT with the values of the twinex
-- constants; times are Unix nanoseconds. The text keys that LoadState
-- orders by (currencies) are COLLATE "C", so that they sort bytewise as in
-- SQLite whatever the database's locale.
--
-- Balances, holds and supply are BIGINT for now; they become NUMERIC(39,0)
-- when balances are widened to 128 bits (docs/POSTGRES.md).
--
-- The tables whose rows are rewritten (orders while they are open,
-- balances, candles) leave room on each page (fillfactor), so that an
-- update that changes no indexed column (a balance; an order partly filled,
-- whose status and seq stay) can stay on its page and skip the indexes (a
-- HOT update).

CREATE TABLE orders (
	id              BIGINT   PRIMARY KEY,
	client_order_id TEXT     NOT NULL,
	account_id      BIGINT   NOT NULL,
	session         TEXT     NOT NULL,
	market          TEXT     NOT NULL,
	side            SMALLINT NOT NULL,
	order_type      SMALLINT NOT NULL,
	exec_option     SMALLINT NOT NULL,
	price           BIGINT   NOT NULL,
	stop_price      BIGINT   NOT NULL,
	amount          BIGINT   NOT NULL,
	filled          BIGINT   NOT NULL,
	filled_notional BIGINT   NOT NULL,
	fees            BIGINT   NOT NULL,
	held            BIGINT   NOT NULL,
	maker_bps       BIGINT   NOT NULL,
	taker_bps       BIGINT   NOT NULL,
	status          SMALLINT NOT NULL,
	cancel_reason   TEXT     NOT NULL,
	seq             BIGINT   NOT NULL,
	created         BIGINT   NOT NULL,
	updated         BIGINT   NOT NULL
) WITH (fillfactor = 80);
-- Orders queries filter by account and walk ids newest first.
CREATE INDEX orders_account ON orders (account_id, id);
-- Look-ups by client order id; orders without one are left out.
CREATE INDEX orders_client_order ON orders (account_id, client_order_id) WHERE client_order_id <> '';
-- Recovery loads open orders (pending 1, live 2) in Seq order; the partial
-- index holds only them, so it stays small however long the history grows.
CREATE INDEX orders_open ON orders (seq) WHERE status IN (1, 2);

CREATE TABLE trades (
	id             BIGINT   PRIMARY KEY,
	market         TEXT     NOT NULL,
	price          BIGINT   NOT NULL,
	amount         BIGINT   NOT NULL,
	notional       BIGINT   NOT NULL,
	taker_side     SMALLINT NOT NULL,
	maker_order_id BIGINT   NOT NULL,
	taker_order_id BIGINT   NOT NULL,
	maker_account  BIGINT   NOT NULL,
	taker_account  BIGINT   NOT NULL,
	maker_fee      BIGINT   NOT NULL,
	taker_fee      BIGINT   NOT NULL,
	time           BIGINT   NOT NULL
);
CREATE INDEX trades_market ON trades (market, id);
CREATE INDEX trades_maker_account ON trades (maker_account, id);
CREATE INDEX trades_taker_account ON trades (taker_account, id);
CREATE INDEX trades_maker_order ON trades (maker_order_id, id);
CREATE INDEX trades_taker_order ON trades (taker_order_id, id);

CREATE TABLE balances (
	account_id BIGINT NOT NULL,
	currency   TEXT   COLLATE "C" NOT NULL,
	total      BIGINT NOT NULL,
	held       BIGINT NOT NULL,
	PRIMARY KEY (account_id, currency)
) WITH (fillfactor = 70);

CREATE TABLE transfers (
	id           BIGINT   PRIMARY KEY,
	kind         SMALLINT NOT NULL,
	account_id   BIGINT   NOT NULL,
	currency     TEXT     NOT NULL,
	amount       BIGINT   NOT NULL,
	fee          BIGINT   NOT NULL,
	counterparty BIGINT   NOT NULL,
	destination  TEXT     NOT NULL,
	tx_hash      TEXT     NOT NULL,
	client_id    TEXT     NOT NULL,
	method       TEXT     NOT NULL,
	time         BIGINT   NOT NULL
);
-- Transfers queries filter by account and walk ids newest first (ids and
-- times rise together, both handed out by the sequencer).
CREATE INDEX transfers_account ON transfers (account_id, id);

CREATE TABLE supply (
	currency TEXT   COLLATE "C" PRIMARY KEY,
	net      BIGINT NOT NULL
);

CREATE TABLE fee_rates (
	account_id BIGINT PRIMARY KEY,
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
) WITH (fillfactor = 80);

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

-- journal_state records how far the projection reaches (seq: the last
-- journal record projected) and which journal it was written with, so that
-- recovery replays exactly the records that follow, and never another
-- journal's. It has a single row, id 1.
CREATE TABLE journal_state (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	seq        BIGINT NOT NULL,
	journal_id TEXT   NOT NULL
);
