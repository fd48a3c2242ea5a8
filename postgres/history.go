package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex"
)

// LoadState returns the state to recover from, read in one REPEATABLE
// READ transaction so every part is of the same commit: the projected
// journal sequence, the counters (zero if never written), the pending and
// live orders in Seq order, and all balances (by account and currency),
// supply (by currency), fee rates (by account) and meta entries (an empty
// map if none).
func (db *DB) LoadState(ctx context.Context) (*twinex.State, error) {
	s := &twinex.State{Meta: map[string]string{}}
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		c := &s.Counters
		err := tx.QueryRow(ctx, `SELECT order_id, trade_id, transfer_id, seq, time FROM counters WHERE id = 1`).
			Scan(&c.OrderID, &c.TradeID, &c.TransferID, &c.Seq, &c.Time)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("counters: %w", err)
		}
		var seq int64
		err = tx.QueryRow(ctx, `SELECT seq FROM journal_state WHERE id = 1`).Scan(&seq)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("journal state: %w", err)
		}
		s.JournalSeq = uint64(seq)
		if s.OpenOrders, err = queryRows(ctx, tx, "open orders", scanOrder,
			`SELECT `+orderCols+` FROM orders WHERE status IN (1, 2) ORDER BY seq`); err != nil {
			return err
		}
		if s.Balances, err = queryAll(ctx, tx, "balances", func(b *twinex.Balance) []any { return []any{&b.AccountID, &b.Currency, wide{&b.Total}, wide{&b.Held}} },
			`SELECT `+balanceCols+` FROM balances ORDER BY account_id, currency`); err != nil {
			return err
		}
		if s.Supply, err = queryAll(ctx, tx, "supply", func(x *twinex.Supply) []any { return []any{&x.Currency, wide{&x.Net}} },
			`SELECT `+supplyCols+` FROM supply ORDER BY currency`); err != nil {
			return err
		}
		if s.FeeRates, err = queryAll(ctx, tx, "fee rates", func(f *twinex.AccountFees) []any { return []any{&f.AccountID, &f.MakerBps, &f.TakerBps} },
			`SELECT `+feeRateCols+` FROM fee_rates ORDER BY account_id`); err != nil {
			return err
		}
		type kv struct{ k, v string }
		meta, err := queryAll(ctx, tx, "meta", func(x *kv) []any { return []any{&x.k, &x.v} }, `SELECT key, value FROM meta`)
		for _, e := range meta {
			s.Meta[e.k] = e.v
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	return s, nil
}

// scanOrder reads a row of orderCols. Enums are scanned into int64s and
// converted.
func scanOrder(r pgx.Row) (twinex.Order, error) {
	var o twinex.Order
	var side, typ, opt, status int64
	err := r.Scan(&o.ID, &o.ClientOrderID, &o.AccountID, &o.Session, &o.Market,
		&side, &typ, &opt, &o.Price, &o.StopPrice, &o.Amount, &o.Filled,
		&o.FilledNotional, &o.Fees, &o.Held, &o.MakerBps, &o.TakerBps, &status, &o.CancelReason,
		&o.Seq, &o.Created, &o.Updated)
	o.Side, o.Type, o.Option, o.Status = twinex.Side(side), twinex.OrderType(typ),
		twinex.Option(opt), twinex.OrderStatus(status)
	return o, err
}

func scanTrade(r pgx.Row) (twinex.Trade, error) {
	var t twinex.Trade
	var side int64
	err := r.Scan(&t.ID, &t.Market, &t.Price, &t.Amount, &t.Notional, &side,
		&t.MakerOrderID, &t.TakerOrderID, &t.MakerAccount, &t.TakerAccount,
		&t.MakerFee, &t.TakerFee, &t.Time)
	t.TakerSide = twinex.Side(side)
	return t, err
}

func scanTransfer(r pgx.Row) (twinex.Transfer, error) {
	var t twinex.Transfer
	var kind int64
	err := r.Scan(&t.ID, &kind, &t.AccountID, &t.Currency, &t.Amount, &t.Fee,
		&t.Counterparty, &t.Destination, &t.TxHash, &t.ClientID, &t.Method, &t.Time)
	t.Kind = twinex.TransferKind(kind)
	return t, err
}

func candleFields(c *twinex.Candle) []any {
	return []any{&c.Market, &c.Timeframe, &c.Start, &c.Open, &c.High, &c.Low, &c.Close, &c.Volume, wide{&c.QuoteVolume}}
}

// Order returns the order with id, or an error wrapping twinex.ErrNotFound.
func (db *DB) Order(ctx context.Context, id int64) (twinex.Order, error) {
	what := fmt.Sprintf("order %d", id)
	os, err := queryRows(ctx, db.pool, what, scanOrder, `SELECT `+orderCols+` FROM orders WHERE id = $1`, id)
	if err != nil {
		return twinex.Order{}, err
	}
	if len(os) == 0 {
		return twinex.Order{}, fmt.Errorf("%s: %w", what, twinex.ErrNotFound)
	}
	return os[0], nil
}

// Orders returns q.AccountID's orders, newest (largest id) first, filtered by
// q's optional fields; at most q.Limit (default 50, at most MaxLimit).
func (db *DB) Orders(ctx context.Context, q twinex.OrderQuery) ([]twinex.Order, error) {
	var w where
	w.add("account_id = ?", q.AccountID)
	if q.Market != "" {
		w.add("market = ?", q.Market)
	}
	if q.ClientOrderID != "" {
		// Restating the partial index's condition lets the planner use it.
		w.add("client_order_id = ? AND client_order_id <> ''", q.ClientOrderID)
	}
	if q.ClosedOnly {
		w.add("status IN (3, 4)") // filled, cancelled
	}
	if q.After != 0 {
		w.add("created > ?", q.After)
	}
	if q.BeforeID != 0 {
		w.add("id < ?", q.BeforeID)
	}
	query, args := w.sql(`SELECT `+orderCols+` FROM orders`, ` ORDER BY id DESC LIMIT ?`, limit(q.Limit, 50))
	return queryRows(ctx, db.pool, "orders", scanOrder, query, args...)
}

// Trades returns trades newest (largest id) first, or oldest first with
// q.Ascending, filtered by q's optional fields; at most q.Limit (default
// 50, at most MaxLimit).
func (db *DB) Trades(ctx context.Context, q twinex.TradeQuery) ([]twinex.Trade, error) {
	n := limit(q.Limit, 50)
	dir := "DESC"
	if q.Ascending {
		dir = "ASC"
	}
	var w where
	if q.Market != "" {
		w.add("market = ?", q.Market)
	}
	if q.After != 0 {
		w.add("time >= ?", q.After)
	}
	if q.AfterID != 0 {
		w.add("id > ?", q.AfterID)
	}
	if q.BeforeID != 0 {
		w.add("id < ?", q.BeforeID)
	}
	// "maker or taker" is the union of a maker and a taker query, each
	// walking its (column, id) index in order and stopping at the limit,
	// as in the SQLite store; UNION drops a self-trade's second copy.
	var either string
	var eitherArg int64
	switch {
	case q.AccountID != 0:
		either, eitherArg = "account", q.AccountID
		if q.OrderID != 0 {
			w.add("(maker_order_id = ? OR taker_order_id = ?)", q.OrderID, q.OrderID)
		}
	case q.OrderID != 0:
		either, eitherArg = "order_id", q.OrderID
	}
	if either == "" {
		query, args := w.sql(`SELECT `+tradeCols+` FROM trades`, ` ORDER BY id `+dir+` LIMIT ?`, n)
		return queryRows(ctx, db.pool, "trades", scanTrade, query, args...)
	}
	var parts []string
	var args []any
	for _, role := range []string{"maker", "taker"} {
		var side where
		side.add(role+"_"+either+" = ?", eitherArg)
		side.conds = append(side.conds, w.conds...)
		side.args = append(side.args, w.args...)
		cond := " WHERE " + strings.Join(side.conds, " AND ")
		parts = append(parts, `SELECT * FROM (SELECT `+tradeCols+` FROM trades`+cond+` ORDER BY id `+dir+` LIMIT ?) AS `+role)
		args = append(args, side.args...)
		args = append(args, n)
	}
	// Number the ?s of the whole query at once.
	var all where
	query, _ := all.sql(strings.Join(parts, ` UNION `)+` ORDER BY id `+dir+` LIMIT ?`, "")
	args = append(args, n)
	return queryRows(ctx, db.pool, "trades", scanTrade, query, args...)
}

// Transfers returns q.AccountID's transfers newest (largest id) first, or
// oldest first with q.Ascending, filtered by q's optional fields; at most
// q.Limit (default 10, at most MaxLimit).
func (db *DB) Transfers(ctx context.Context, q twinex.TransferQuery) ([]twinex.Transfer, error) {
	var w where
	w.add("account_id = ?", q.AccountID)
	if q.Currency != "" {
		w.add("currency = ?", q.Currency)
	}
	if q.After != 0 {
		w.add("time >= ?", q.After)
	}
	if q.AfterID != 0 {
		w.add("id > ?", q.AfterID)
	}
	if q.BeforeID != 0 {
		w.add("id < ?", q.BeforeID)
	}
	dir := "DESC"
	if q.Ascending {
		dir = "ASC"
	}
	query, args := w.sql(`SELECT `+transferCols+` FROM transfers`, ` ORDER BY id `+dir+` LIMIT ?`, limit(q.Limit, 10))
	return queryRows(ctx, db.pool, "transfers", scanTransfer, query, args...)
}

// Candles returns q.Market's candles of q.Timeframe starting at or after
// q.Since, newest first; at most q.Limit (default 1000, at most MaxLimit).
func (db *DB) Candles(ctx context.Context, q twinex.CandleQuery) ([]twinex.Candle, error) {
	return queryAll(ctx, db.pool, "candles", candleFields, `SELECT `+candleCols+` FROM candles
		WHERE market = $1 AND timeframe = $2 AND start >= $3 ORDER BY start DESC LIMIT $4`,
		q.Market, q.Timeframe, q.Since, limit(q.Limit, 1000))
}

// wide scans a NUMERIC column selected as text (selectNames) into an
// Int128, exactly.
type wide struct{ v *twinex.Int128 }

func (w wide) Scan(src any) error {
	s, ok := src.(string)
	if !ok {
		return fmt.Errorf("wide value: %T, want the column as text", src)
	}
	v, err := twinex.ParseInt128(s)
	if err != nil {
		return fmt.Errorf("wide value: %w", err)
	}
	*w.v = v
	return nil
}
