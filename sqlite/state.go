package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/twinex/twinex"
)

// LoadState returns the state to recover from, read in one transaction so
// every part is of the same commit: the counters (zero if never written), the
// pending and live orders in Seq order, and all balances (by account and
// currency), supply (by currency), fee rates (by account) and meta entries
// (an empty map if none).
func (db *DB) LoadState(ctx context.Context) (*twinex.State, error) {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	defer tx.Rollback()
	s, err := db.loadState(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	return s, nil
}

// parallelOrders is the count of open orders from which LoadState reads
// them in two halves at once.
const parallelOrders = 20_000

func (db *DB) loadState(ctx context.Context, tx *sql.Tx) (*twinex.State, error) {
	s := &twinex.State{Meta: map[string]string{}}
	c := &s.Counters
	err := tx.QueryRowContext(ctx, `SELECT order_id, trade_id, transfer_id, seq, time FROM counters WHERE id = 1`).
		Scan(&c.OrderID, &c.TradeID, &c.TransferID, &c.Seq, &c.Time)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("counters: %w", err)
	}
	var seq int64
	err = tx.QueryRowContext(ctx, `SELECT seq FROM journal_state WHERE id = 1`).Scan(&seq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("journal state: %w", err)
	}
	s.JournalSeq = uint64(seq)

	// Counting first sizes the slice once; the partial index makes it cheap.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE status IN (1, 2)`).Scan(&n); err != nil {
		return nil, fmt.Errorf("open orders: %w", err)
	}
	s.OpenOrders = make([]twinex.Order, 0, n)
	if n < parallelOrders || !db.openOrdersInHalves(ctx, tx, s) {
		rows, err := tx.QueryContext(ctx, `SELECT `+orderCols+` FROM orders WHERE status IN (1, 2) ORDER BY seq`)
		if err != nil {
			return nil, fmt.Errorf("open orders: %w", err)
		}
		if s.OpenOrders, err = scanOrders(rows, s.OpenOrders[:0]); err != nil {
			return nil, fmt.Errorf("open orders: %w", err)
		}
	}

	rows, err := tx.QueryContext(ctx, `SELECT `+balanceCols+` FROM balances ORDER BY account_id, currency`)
	if err != nil {
		return nil, fmt.Errorf("balances: %w", err)
	}
	if s.Balances, err = scanAll(rows, s.Balances, func(r *sql.Rows, b *twinex.Balance) error {
		return r.Scan(&b.AccountID, &b.Currency, wideScan{&b.Total}, wideScan{&b.Held})
	}); err != nil {
		return nil, fmt.Errorf("balances: %w", err)
	}

	rows, err = tx.QueryContext(ctx, `SELECT `+supplyCols+` FROM supply ORDER BY currency`)
	if err != nil {
		return nil, fmt.Errorf("supply: %w", err)
	}
	if s.Supply, err = scanAll(rows, s.Supply, func(r *sql.Rows, x *twinex.Supply) error {
		return r.Scan(&x.Currency, wideScan{&x.Net})
	}); err != nil {
		return nil, fmt.Errorf("supply: %w", err)
	}

	rows, err = tx.QueryContext(ctx, `SELECT `+feeRateCols+` FROM fee_rates ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("fee rates: %w", err)
	}
	if s.FeeRates, err = scanAll(rows, s.FeeRates, func(r *sql.Rows, f *twinex.AccountFees) error {
		return r.Scan(&f.AccountID, &f.MakerBps, &f.TakerBps)
	}); err != nil {
		return nil, fmt.Errorf("fee rates: %w", err)
	}

	rows, err = tx.QueryContext(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("meta: %w", err)
		}
		s.Meta[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	return s, nil
}

// openOrdersInHalves reads the open orders into s.OpenOrders (made with
// room for all of them) in two halves at once: the later half in a read
// transaction of its own, on another connection and core, since scanning
// rows costs several microseconds each and a restart waits for all of
// them. That transaction must see what tx sees: it checks the counters and
// the journal sequence (every write of the exchange changes the counters)
// and the count of open orders. It reports false, having read nothing
// into s, when they differ or either half fails, and the caller reads them
// in one scan instead.
func (db *DB) openOrdersInHalves(ctx context.Context, tx *sql.Tx, s *twinex.State) bool {
	n := cap(s.OpenOrders)
	var split int64
	if err := tx.QueryRowContext(ctx, `SELECT seq FROM orders WHERE status IN (1, 2) ORDER BY seq LIMIT 1 OFFSET ?`, n/2).Scan(&split); err != nil {
		return false
	}
	var later int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE status IN (1, 2) AND seq >= ?`, split).Scan(&later); err != nil || later > n {
		return false
	}
	all := s.OpenOrders[:n]
	first, second := all[:0:n-later], all[n-later:n-later]
	done := make(chan bool, 1)
	go func() {
		tx2, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			done <- false
			return
		}
		defer tx2.Rollback()
		var c twinex.Counters
		var seq int64
		var count int
		err = tx2.QueryRowContext(ctx, `SELECT (SELECT order_id FROM counters WHERE id = 1), (SELECT trade_id FROM counters WHERE id = 1),
			(SELECT transfer_id FROM counters WHERE id = 1), (SELECT seq FROM counters WHERE id = 1), (SELECT time FROM counters WHERE id = 1),
			(SELECT seq FROM journal_state WHERE id = 1), (SELECT COUNT(*) FROM orders WHERE status IN (1, 2))`).
			Scan(nullInt{&c.OrderID}, nullInt{&c.TradeID}, nullInt{&c.TransferID}, nullInt{&c.Seq}, nullInt{&c.Time}, nullInt{&seq}, &count)
		if err != nil || c != s.Counters || uint64(seq) != s.JournalSeq || count != n {
			done <- false
			return
		}
		rows, err := tx2.QueryContext(ctx, `SELECT `+orderCols+` FROM orders WHERE status IN (1, 2) AND seq >= ? ORDER BY seq`, split)
		if err == nil {
			second, err = scanOrders(rows, second)
		}
		done <- err == nil && len(second) == later && cap(second) == later
	}()
	rows, err := tx.QueryContext(ctx, `SELECT `+orderCols+` FROM orders WHERE status IN (1, 2) AND seq < ? ORDER BY seq`, split)
	if err == nil {
		first, err = scanOrders(rows, first)
	}
	ok := <-done && err == nil && len(first) == n-later && cap(first) == n-later
	if !ok {
		clear(all)
		return false
	}
	s.OpenOrders = all
	return true
}

// nullInt scans an integer that may be NULL (as 0).
type nullInt struct{ p *int64 }

func (v nullInt) Scan(src any) error {
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	*v.p = n.Int64
	return nil
}

// JournalID returns the id of the journal the projection was written with
// ("" before the first).
func (db *DB) JournalID(ctx context.Context) (string, error) {
	var id string
	err := db.r.QueryRowContext(ctx, `SELECT journal_id FROM journal_state WHERE id = 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("journal id: %w", err)
	}
	return id, nil
}

// SetJournalID records the id of the journal the projection is written
// with from now on, durably.
func (db *DB) SetJournalID(ctx context.Context, id string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, err := db.w.ExecContext(ctx, `INSERT INTO journal_state (id, seq, journal_id) VALUES (1, 0, ?)
		ON CONFLICT (id) DO UPDATE SET journal_id = excluded.journal_id`, id); err != nil {
		return fmt.Errorf("set journal id: %w", err)
	}
	return nil
}

// scanAll appends every row of rows to dst with scan, and closes rows.
func scanAll[T any](rows *sql.Rows, dst []T, scan func(*sql.Rows, *T) error) ([]T, error) {
	defer rows.Close()
	for rows.Next() {
		var x T
		if err := scan(rows, &x); err != nil {
			return dst, err
		}
		dst = append(dst, x)
	}
	return dst, rows.Err()
}

// scanOrders appends the orders of rows (selected with orderCols) to dst and
// closes rows. Enums are scanned into int64s: scanning straight into the
// uint8 types would take database/sql's reflection path.
func scanOrders(rows *sql.Rows, dst []twinex.Order) ([]twinex.Order, error) {
	return scanAll(rows, dst, func(r *sql.Rows, o *twinex.Order) error {
		var side, typ, opt, status int64
		err := r.Scan(&o.ID, &o.ClientOrderID, &o.AccountID, &o.Session, &o.Market,
			&side, &typ, &opt, &o.Price, &o.StopPrice, &o.Amount, &o.Filled,
			&o.FilledNotional, &o.Fees, &o.Held, &o.MakerBps, &o.TakerBps, &status, &o.CancelReason,
			&o.Seq, &o.Created, &o.Updated)
		o.Side, o.Type, o.Option, o.Status = twinex.Side(side), twinex.OrderType(typ),
			twinex.Option(opt), twinex.OrderStatus(status)
		return err
	})
}

func scanTrades(rows *sql.Rows, dst []twinex.Trade) ([]twinex.Trade, error) {
	return scanAll(rows, dst, func(r *sql.Rows, t *twinex.Trade) error {
		var side int64
		err := r.Scan(&t.ID, &t.Market, &t.Price, &t.Amount, &t.Notional, &side,
			&t.MakerOrderID, &t.TakerOrderID, &t.MakerAccount, &t.TakerAccount,
			&t.MakerFee, &t.TakerFee, &t.Time)
		t.TakerSide = twinex.Side(side)
		return err
	})
}

func scanTransfers(rows *sql.Rows, dst []twinex.Transfer) ([]twinex.Transfer, error) {
	return scanAll(rows, dst, func(r *sql.Rows, t *twinex.Transfer) error {
		var kind int64
		err := r.Scan(&t.ID, &kind, &t.AccountID, &t.Currency, &t.Amount, &t.Fee,
			&t.Counterparty, &t.Destination, &t.TxHash, &t.ClientID, &t.Method, &t.Time)
		t.Kind = twinex.TransferKind(kind)
		return err
	})
}

func scanCandles(rows *sql.Rows, dst []twinex.Candle) ([]twinex.Candle, error) {
	return scanAll(rows, dst, func(r *sql.Rows, c *twinex.Candle) error {
		return r.Scan(&c.Market, &c.Timeframe, &c.Start, &c.Open, &c.High, &c.Low,
			&c.Close, &c.Volume, wideScan{&c.QuoteVolume})
	})
}
