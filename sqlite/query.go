package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/twinex/twinex"
)

// MaxLimit caps every query's Limit, so one request cannot make the process
// load an unbounded history into memory.
const MaxLimit = 10000

// limit returns q's limit, def if unset, capped at MaxLimit.
func limit(n, def int) int {
	if n <= 0 {
		return def
	}
	return min(n, MaxLimit)
}

// Order returns the order with id, or an error wrapping twinex.ErrNotFound.
func (db *DB) Order(ctx context.Context, id int64) (twinex.Order, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+orderCols+` FROM orders WHERE id = ?`, id)
	if err != nil {
		return twinex.Order{}, fmt.Errorf("order %d: %w", id, err)
	}
	var buf [1]twinex.Order
	os, err := scanOrders(rows, buf[:0])
	if err != nil {
		return twinex.Order{}, fmt.Errorf("order %d: %w", id, err)
	}
	if len(os) == 0 {
		return twinex.Order{}, fmt.Errorf("order %d: %w", id, twinex.ErrNotFound)
	}
	return os[0], nil
}

// where accumulates the conditions and arguments of a query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// sql returns " WHERE a AND b", or "" without conditions.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
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
		// Restating the partial index's condition lets SQLite use it.
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
	w.args = append(w.args, limit(q.Limit, 50))
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+orderCols+` FROM orders`+w.sql()+` ORDER BY id DESC LIMIT ?`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	os, err := scanOrders(rows, nil)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	return os, nil
}

// Trades returns trades newest (largest id) first, filtered by q's optional
// fields; at most q.Limit (default 50, at most MaxLimit).
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
	// "maker or taker" is written as the union of a maker and a taker query,
	// each walking its (column, id) index newest first and stopping at the
	// limit; an OR would make SQLite collect and sort every matching trade.
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
	var query string
	var args []any
	if either == "" {
		query = `SELECT ` + tradeCols + ` FROM trades` + w.sql() + ` ORDER BY id ` + dir + ` LIMIT ?`
		args = append(w.args, n)
	} else {
		side := func(role string) string {
			cond := role + "_" + either + " = ?"
			if len(w.conds) > 0 {
				cond += " AND " + strings.Join(w.conds, " AND ")
			}
			return `SELECT * FROM (SELECT ` + tradeCols + ` FROM trades WHERE ` + cond +
				` ORDER BY id ` + dir + ` LIMIT ?) AS ` + role
		}
		query = side("maker") + ` UNION ` + side("taker") + ` ORDER BY id ` + dir + ` LIMIT ?`
		for range 2 {
			args = append(args, eitherArg)
			args = append(args, w.args...)
			args = append(args, n)
		}
		args = append(args, n)
	}
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("trades: %w", err)
	}
	ts, err := scanTrades(rows, nil)
	if err != nil {
		return nil, fmt.Errorf("trades: %w", err)
	}
	return ts, nil
}

// Transfers returns q.AccountID's transfers newest (largest id) first,
// filtered by q's optional fields; at most q.Limit (default 10, at most
// MaxLimit).
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
	w.args = append(w.args, limit(q.Limit, 10))
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+transferCols+` FROM transfers`+w.sql()+` ORDER BY id `+dir+` LIMIT ?`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("transfers: %w", err)
	}
	ts, err := scanTransfers(rows, nil)
	if err != nil {
		return nil, fmt.Errorf("transfers: %w", err)
	}
	return ts, nil
}

// Candles returns q.Market's candles of q.Timeframe starting at or after
// q.Since, newest first; at most q.Limit (default 1000, at most MaxLimit).
func (db *DB) Candles(ctx context.Context, q twinex.CandleQuery) ([]twinex.Candle, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+candleCols+` FROM candles
		WHERE market = ? AND timeframe = ? AND start >= ? ORDER BY start DESC LIMIT ?`,
		q.Market, q.Timeframe, q.Since, limit(q.Limit, 1000))
	if err != nil {
		return nil, fmt.Errorf("candles: %w", err)
	}
	cs, err := scanCandles(rows, nil)
	if err != nil {
		return nil, fmt.Errorf("candles: %w", err)
	}
	return cs, nil
}
