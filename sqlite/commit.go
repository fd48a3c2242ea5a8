package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/twinex/twinex"
)

// Column lists, shared by the writes and the reads so their order can't
// drift apart.
const (
	orderCols = "id, client_order_id, account_id, session, market, side, order_type, exec_option, " +
		"price, stop_price, amount, filled, filled_notional, fees, held, maker_bps, taker_bps, status, cancel_reason, " +
		"seq, created, updated"
	tradeCols = "id, market, price, amount, notional, taker_side, maker_order_id, taker_order_id, " +
		"maker_account, taker_account, maker_fee, taker_fee, time"
	balanceCols  = "account_id, currency, total, held"
	transferCols = "id, kind, account_id, currency, amount, fee, counterparty, destination, " +
		"tx_hash, client_id, method, time"
	supplyCols  = "currency, net"
	feeRateCols = "account_id, maker_bps, taker_bps"
	candleCols  = "market, timeframe, start, open, high, low, close, volume, quote_volume"
	// orderChangeCols are the columns that an order's later writes change:
	// what fills, cancels and the book do to it. The others are fixed when it
	// is placed.
	orderChangeCols = "filled, filled_notional, fees, held, status, cancel_reason, seq, updated"
)

// chunkSizes are the row counts of the prepared multi-row INSERTs, largest
// first. A batch of n rows is written greedily with the largest that fit, so
// 1000 rows take 3x256 + 3x64 + 2x16 + 2x4 = 10 statements instead of 1000.
// Multi-row statements are what makes Commit fast: per-statement overhead in
// database/sql and the driver dwarfs SQLite's per-row cost. 256 x 20 order
// columns stays well under SQLite's 32766 bound parameter limit. Read-only.
var chunkSizes = [...]int{256, 64, 16, 4, 1}

// bulk is one table's family of prepared multi-row INSERTs.
type bulk struct {
	stmts [len(chunkSizes)]*sql.Stmt
}

// oftenEmpty are the text columns that are mostly empty: their rows bind
// them through nullable, so that an empty one is bound as a NULL, which
// costs no copy into the driver's C memory, and stored as the empty text.
var oftenEmpty = map[string]bool{"client_order_id": true, "cancel_reason": true}

// nullable is the bound form of a column in oftenEmpty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rowSQL returns the parenthesised values of one row of the columns names.
func rowSQL(names []string) string {
	var b strings.Builder
	b.WriteString("(")
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		if oftenEmpty[n] {
			b.WriteString("coalesce(?, '')")
		} else {
			b.WriteString("?")
		}
	}
	b.WriteString(")")
	return b.String()
}

// bulkSQL returns INSERT INTO table (cols) VALUES (...) x rows, followed,
// when key is set, by an upsert clause that overwrites every column that is
// neither in key nor in keep.
func bulkSQL(table, cols, key, keep string, rows int) string {
	names := strings.Split(cols, ", ")
	row := rowSQL(names)
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if key != "" {
		isKey := map[string]bool{}
		for _, k := range strings.Split(key+", "+keep, ", ") {
			isKey[k] = true
		}
		b.WriteString(" ON CONFLICT (" + key + ") DO UPDATE SET ")
		first := true
		for _, n := range names {
			if isKey[n] {
				continue
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(n + " = excluded." + n)
		}
	}
	return b.String()
}

// orderChangeSQL returns an UPDATE of the orderChangeCols of rows orders,
// each given as its id followed by those columns.
func orderChangeSQL(rows int) string {
	names := strings.Split(orderChangeCols, ", ")
	row := rowSQL(append([]string{"id"}, names...))
	var b strings.Builder
	b.WriteString("UPDATE orders SET ")
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = v.column%d", n, i+2)
	}
	b.WriteString(" FROM (VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(") AS v WHERE orders.id = v.column1")
	return b.String()
}

func (bk *bulk) prepare(db *sql.DB, table, cols, key, keep string) error {
	return bk.prepareWith(db, table, func(n int) string { return bulkSQL(table, cols, key, keep, n) })
}

func (bk *bulk) prepareWith(db *sql.DB, table string, query func(rows int) string) error {
	for i, n := range chunkSizes {
		s, err := db.Prepare(query(n))
		if err != nil {
			return fmt.Errorf("prepare %s: %w", table, err)
		}
		bk.stmts[i] = s
	}
	return nil
}

// writer holds the statements prepared on the writer connection and the
// argument buffer Commit reuses.
type writer struct {
	orders, trades, balances, transfers, supply, feeRates, candles bulk
	orderChanges                                                   bulk

	newOrders, oldOrders []int // indexes into a batch's orders, reused

	counters, meta, keyUse, keyReplay, journalSeq *sql.Stmt
	all                                           []*sql.Stmt // for close
	args                                          []any
}

func (w *writer) prepare(db *sql.DB) error {
	for _, p := range []struct {
		bk                     *bulk
		table, cols, key, keep string
	}{
		// An order's account and client order id never change; not
		// rewriting them spares an update two random index writes.
		{&w.orders, "orders", orderCols, "id", "account_id, client_order_id"},
		{&w.trades, "trades", tradeCols, "", ""}, // inserted: a duplicate id is an error
		{&w.balances, "balances", balanceCols, "account_id, currency", ""},
		{&w.transfers, "transfers", transferCols, "", ""},
		{&w.supply, "supply", supplyCols, "currency", ""},
		{&w.feeRates, "fee_rates", feeRateCols, "account_id", ""},
		{&w.candles, "candles", candleCols, "market, timeframe, start", ""},
	} {
		err := p.bk.prepare(db, p.table, p.cols, p.key, p.keep)
		w.all = append(w.all, p.bk.stmts[:]...)
		if err != nil {
			return err
		}
	}
	err := w.orderChanges.prepareWith(db, "orders", orderChangeSQL)
	w.all = append(w.all, w.orderChanges.stmts[:]...)
	if err != nil {
		return err
	}
	if w.counters, err = db.Prepare(`INSERT INTO counters (id, order_id, trade_id, transfer_id, seq, time)
		VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id,
		trade_id = excluded.trade_id, transfer_id = excluded.transfer_id, seq = excluded.seq,
		time = excluded.time`); err != nil {
		return fmt.Errorf("prepare counters: %w", err)
	}
	w.all = append(w.all, w.counters)
	if w.meta, err = db.Prepare(`INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`); err != nil {
		return fmt.Errorf("prepare meta: %w", err)
	}
	w.all = append(w.all, w.meta)
	if w.keyUse, err = db.Prepare(keyUseSQL); err != nil {
		return fmt.Errorf("prepare key uses: %w", err)
	}
	w.all = append(w.all, w.keyUse)
	if w.keyReplay, err = db.Prepare(keyReplaySQL); err != nil {
		return fmt.Errorf("prepare key replays: %w", err)
	}
	w.all = append(w.all, w.keyReplay)
	// The projected sequence only goes forward.
	if w.journalSeq, err = db.Prepare(`INSERT INTO journal_state (id, seq, journal_id) VALUES (1, ?, '')
		ON CONFLICT (id) DO UPDATE SET seq = max(seq, excluded.seq)`); err != nil {
		return fmt.Errorf("prepare journal state: %w", err)
	}
	w.all = append(w.all, w.journalSeq)
	return nil
}

func (w *writer) close() {
	for _, s := range w.all {
		if s != nil {
			s.Close()
		}
	}
	w.all = nil
}

// Commit writes b in one transaction, durably (synchronous=FULL): orders,
// balances, supply, fee rates and candles are upserted (the batch holds their
// latest state; of an order already stored only its orderChangeCols are
// written: its account, client order id, session, market, side, type,
// option, prices, amount, fee rates and creation are taken as fixed at its
// first write, as the engine never changes them), trades and transfers
// inserted (an id already stored is an error and nothing of b is written),
// meta entries upserted. b.Counters is written unless it is the zero value,
// so a batch that leaves the counters unset cannot rewind them.
func (db *DB) Commit(ctx context.Context, b *twinex.Batch) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := commit(ctx, db.w, &db.wr, &db.orders, b); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Project writes b like Commit, through the projection's own connection,
// which commits without an fsync (synchronous=NORMAL in WAL mode: a crash
// of the machine may lose the latest projections, never corrupt the file
// or keep part of one). The journal holds what they project; Checkpoint
// makes them durable.
func (db *DB) Project(ctx context.Context, b *twinex.Batch) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := commit(ctx, db.p, &db.pr, &db.orders, b); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}

// Checkpoint makes every projection durable. The projections were
// committed without an fsync, so their frames may be only in the
// write-ahead log's pages in memory; syncing the log file (and the database
// file, for frames an automatic checkpoint already copied there, which
// SQLite syncs itself) puts them on disk whichever connection wrote them.
// A commit cannot do it: SQLite writes nothing, and so syncs nothing, for a
// transaction that changes no row. It holds db.mu, so no projection is half
// written meanwhile.
func (db *DB) Checkpoint(ctx context.Context) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, p := range []string{db.path + "-wal", db.path} {
		if err := syncFile(p); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

// syncFile flushes the file at path to disk; a file that is not there
// (no write-ahead log yet) has nothing to flush.
func syncFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// orderHigh is the largest order id in the orders table, once known.
type orderHigh struct {
	id    int64
	known bool
}

func commit(ctx context.Context, conn *sql.DB, w *writer, high *orderHigh, b *twinex.Batch) error { // long: one statement group per table of the batch, in one transaction
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	top, err := w.writeOrders(ctx, tx, high, b.Orders)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	if _, err := w.exec(ctx, tx, &w.trades, len(b.Trades), func(a []any, i int) []any {
		t := &b.Trades[i]
		return append(a, t.ID, t.Market, t.Price, t.Amount, t.Notional, int64(t.TakerSide),
			t.MakerOrderID, t.TakerOrderID, t.MakerAccount, t.TakerAccount, t.MakerFee,
			t.TakerFee, t.Time)
	}); err != nil {
		return fmt.Errorf("trades: %w", err)
	}
	if _, err := w.exec(ctx, tx, &w.balances, len(b.Balances), func(a []any, i int) []any {
		x := &b.Balances[i]
		return append(a, x.AccountID, x.Currency, wideArg(x.Total), wideArg(x.Held))
	}); err != nil {
		return fmt.Errorf("balances: %w", err)
	}
	if _, err := w.exec(ctx, tx, &w.transfers, len(b.Transfers), func(a []any, i int) []any {
		t := &b.Transfers[i]
		return append(a, t.ID, int64(t.Kind), t.AccountID, t.Currency, t.Amount, t.Fee,
			t.Counterparty, t.Destination, t.TxHash, t.ClientID, t.Method, t.Time)
	}); err != nil {
		return fmt.Errorf("transfers: %w", err)
	}
	if _, err := w.exec(ctx, tx, &w.supply, len(b.Supply), func(a []any, i int) []any {
		s := &b.Supply[i]
		return append(a, s.Currency, wideArg(s.Net))
	}); err != nil {
		return fmt.Errorf("supply: %w", err)
	}
	if _, err := w.exec(ctx, tx, &w.feeRates, len(b.FeeRates), func(a []any, i int) []any {
		f := &b.FeeRates[i]
		return append(a, f.AccountID, f.MakerBps, f.TakerBps)
	}); err != nil {
		return fmt.Errorf("fee rates: %w", err)
	}
	if _, err := w.exec(ctx, tx, &w.candles, len(b.Candles), func(a []any, i int) []any {
		c := &b.Candles[i]
		return append(a, c.Market, c.Timeframe, c.Start, c.Open, c.High, c.Low, c.Close,
			c.Volume, wideArg(c.QuoteVolume))
	}); err != nil {
		return fmt.Errorf("candles: %w", err)
	}
	if c := b.Counters; c != (twinex.Counters{}) {
		if _, err := tx.StmtContext(ctx, w.counters).ExecContext(ctx,
			c.OrderID, c.TradeID, c.TransferID, c.Seq, c.Time); err != nil {
			return fmt.Errorf("counters: %w", err)
		}
	}
	if len(b.KeyUses) > 0 {
		s := tx.StmtContext(ctx, w.keyUse)
		for _, u := range b.KeyUses {
			if _, err := s.ExecContext(ctx, u.LastNonce, u.LastUsed, u.LastIP, u.Seq, u.ID, u.Seq); err != nil {
				return fmt.Errorf("key uses: %w", err)
			}
		}
	}
	if len(b.KeyReplays) > 0 {
		s := tx.StmtContext(ctx, w.keyReplay)
		for _, m := range b.KeyReplays {
			if _, err := s.ExecContext(ctx, m.KeyID, m.Sig, m.Until); err != nil {
				return fmt.Errorf("key replays: %w", err)
			}
		}
	}
	if b.JournalSeq > 0 {
		if _, err := tx.StmtContext(ctx, w.journalSeq).ExecContext(ctx, int64(b.JournalSeq)); err != nil {
			return fmt.Errorf("journal state: %w", err)
		}
	}
	if len(b.Meta) > 0 {
		s := tx.StmtContext(ctx, w.meta)
		for k, v := range b.Meta {
			if _, err := s.ExecContext(ctx, k, v); err != nil {
				return fmt.Errorf("meta: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	high.id = max(high.id, top)
	return nil
}

// writeOrders writes os: an order whose id is above the largest stored
// (high) is inserted with every column, any other updated in its
// orderChangeCols only, which binds less than half the values and rebuilds
// less of the row. An order that high wrongly took as stored (an order
// written by another hand) is found by the update's count of rows, and
// those orders are then upserted whole. It returns the largest id in os,
// for high once the transaction has committed.
func (w *writer) writeOrders(ctx context.Context, tx *sql.Tx, high *orderHigh, os []twinex.Order) (int64, error) {
	if len(os) == 0 {
		return 0, nil
	}
	if !high.known {
		var id sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM orders`).Scan(&id); err != nil {
			return 0, err
		}
		high.id, high.known = id.Int64, true
	}
	var top int64
	w.newOrders, w.oldOrders = w.newOrders[:0], w.oldOrders[:0]
	for i := range os {
		top = max(top, os[i].ID)
		if os[i].ID > high.id {
			w.newOrders = append(w.newOrders, i)
		} else {
			w.oldOrders = append(w.oldOrders, i)
		}
	}
	whole := func(is []int) error {
		_, err := w.exec(ctx, tx, &w.orders, len(is), func(a []any, i int) []any {
			o := &os[is[i]]
			return append(a, o.ID, nullable(o.ClientOrderID), o.AccountID, o.Session, o.Market,
				int64(o.Side), int64(o.Type), int64(o.Option), o.Price, o.StopPrice, o.Amount,
				o.Filled, o.FilledNotional, o.Fees, o.Held, o.MakerBps, o.TakerBps, int64(o.Status), nullable(o.CancelReason),
				o.Seq, o.Created, o.Updated)
		})
		return err
	}
	if err := whole(w.newOrders); err != nil {
		return 0, err
	}
	n, err := w.exec(ctx, tx, &w.orderChanges, len(w.oldOrders), func(a []any, i int) []any {
		o := &os[w.oldOrders[i]]
		return append(a, o.ID, o.Filled, o.FilledNotional, o.Fees, o.Held, int64(o.Status), nullable(o.CancelReason),
			o.Seq, o.Updated)
	})
	if err != nil {
		return 0, err
	}
	if n < int64(len(w.oldOrders)) {
		if err := whole(w.oldOrders); err != nil {
			return 0, err
		}
	}
	return top, nil
}

// exec writes n rows with bk's statements, appending row i's arguments with
// row, and returns the count of rows they changed. It reuses w.args across
// calls.
func (w *writer) exec(ctx context.Context, tx *sql.Tx, bk *bulk, n int, row func([]any, int) []any) (int64, error) {
	var changed int64
	i := 0
	for si, size := range chunkSizes {
		if n-i < size {
			continue
		}
		s := tx.StmtContext(ctx, bk.stmts[si])
		for ; n-i >= size; i += size {
			a := w.args[:0]
			for j := range size {
				a = row(a, i+j)
			}
			w.args = a
			res, err := s.ExecContext(ctx, a...)
			clear(a) // don't keep the batch's strings alive
			if err != nil {
				return changed, err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return changed, err
			}
			changed += k
		}
	}
	return changed, nil
}
