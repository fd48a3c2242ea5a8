package postgres

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twinex/twinex"
)

var _ twinex.ExchangeStore = (*DB)(nil)

// exchange is the exchange store's writing side: two connections of its
// own, so that the session settings that make one durable and the other
// not are set once, and the column buffers its batches reuse.
//
// Commit, Checkpoint and SetJournalID write through w, whose commits wait
// for the write-ahead log to be flushed (synchronous_commit on, or
// stronger if the server is configured so). Project writes through p,
// whose commits do not wait (synchronous_commit off): see Project and
// Checkpoint for why that is safe. mu makes the writes take turns, as the
// sequencer's single writer does anyway; the connections are made on first
// use and made again after one broke.
type exchange struct {
	mu   sync.Mutex
	w, p *pgx.Conn
	bufs batchBufs
	// high is the largest order id stored, once read (known): an order
	// at or below it is stored already, and only its changing columns
	// are written (updateOrders).
	high                 int64
	highKnown            bool
	newOrders, oldOrders []twinex.Order
	jobs                 []copyJob
}

// column is one column of a table written with unnest or COPY: its name,
// and whether it is text, a SMALLINT (sent as two bytes by COPY), or a
// wide (128-bit) integer in a NUMERIC column, sent as its decimal text and
// cast; else a BIGINT. unnest sends every integer as bigint[], which the
// INSERT converts to the column's type.
type column struct {
	name  string
	text  bool
	small bool
	wide  bool
}

// cols parses "a, b:text, c:small, d:wide" into columns.
func cols(spec string) []column {
	var out []column
	for _, f := range strings.Split(spec, ", ") {
		name, typ, _ := strings.Cut(f, ":")
		out = append(out, column{name: name, text: typ == "text", small: typ == "small", wide: typ == "wide"})
	}
	return out
}

// selectNames returns the columns to SELECT, the wide ones as text
// (twinex.ParseInt128 reads them back exactly).
func selectNames(cs []column) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.name)
		if c.wide {
			b.WriteString("::text")
		}
	}
	return b.String()
}

// names returns the columns' names joined with ", ".
func names(cs []column) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.name)
	}
	return b.String()
}

// The exchange tables' columns in the order the writes and the reads use.
var (
	orderColumns = cols("id, client_order_id:text, account_id, session:text, market:text, side:small, order_type:small, " +
		"exec_option:small, price, stop_price, amount, filled, filled_notional, fees, held, maker_bps, taker_bps, status:small, " +
		"cancel_reason:text, seq, created, updated")
	tradeColumns = cols("id, market:text, price, amount, notional, taker_side:small, maker_order_id, taker_order_id, " +
		"maker_account, taker_account, maker_fee, taker_fee, time")
	balanceColumns  = cols("account_id, currency:text, total:wide, held:wide")
	transferColumns = cols("id, kind, account_id, currency:text, amount, fee, counterparty, destination:text, " +
		"tx_hash:text, client_id:text, method:text, time")
	supplyColumns  = cols("currency:text, net:wide")
	feeRateColumns = cols("account_id, maker_bps, taker_bps")
	candleColumns  = cols("market:text, timeframe:text, start, open, high, low, close, volume, quote_volume:wide")

	orderCols    = names(orderColumns)
	tradeCols    = names(tradeColumns)
	balanceCols  = selectNames(balanceColumns)
	transferCols = names(transferColumns)
	supplyCols   = selectNames(supplyColumns)
	feeRateCols  = names(feeRateColumns)
	candleCols   = selectNames(candleColumns)
)

// unnestSQL returns one statement that inserts every row of a batch from
// one array per column: INSERT INTO table (cols) SELECT * FROM
// unnest($1::bigint[], $2::text[], ...), followed, when key is set, by an
// upsert clause that overwrites every column that is neither in key nor in
// keep. One statement per table, whatever the batch's size, with its
// arrays sent in pgx's binary format, is what makes a batch of thousands
// of rows cheap (docs/POSTGRES.md has the figures against COPY into
// temporary tables). What a large batch only inserts goes by COPY instead
// (copyOrQueue).
func unnestSQL(table string, cs []column, key, keep string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + names(cs) + ") SELECT * FROM unnest(")
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case c.text:
			fmt.Fprintf(&b, "$%d::text[]", i+1)
		case c.wide:
			fmt.Fprintf(&b, "$%d::text[]::numeric[]", i+1)
		default:
			fmt.Fprintf(&b, "$%d::bigint[]", i+1)
		}
	}
	b.WriteString(")")
	if key == "" {
		return b.String()
	}
	fixed := map[string]bool{}
	for _, k := range strings.Split(key+", "+keep, ", ") {
		fixed[k] = true
	}
	b.WriteString(" ON CONFLICT (" + key + ") DO UPDATE SET ")
	first := true
	for _, c := range cs {
		if fixed[c.name] {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(c.name + " = excluded." + c.name)
	}
	return b.String()
}

// The batch's statements, one per table.
var (
	// An order's account and client order id never change; not rewriting
	// them keeps the update off their index.
	upsertOrders = unnestSQL("orders", orderColumns, "id", "account_id, client_order_id")
	// updateOrders writes the columns of stored orders that change, and
	// fails (division by zero, so that nothing of the batch is written)
	// unless it found every one: write then upserts them whole.
	updateOrders = `WITH u AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
			$6::bigint[], $7::text[], $8::bigint[], $9::bigint[])
			AS u(id, filled, filled_notional, fees, held, status, cancel_reason, seq, updated)),
		n AS (UPDATE orders o SET filled = u.filled, filled_notional = u.filled_notional, fees = u.fees, held = u.held,
			status = u.status, cancel_reason = u.cancel_reason, seq = u.seq, updated = u.updated
			FROM u WHERE o.id = u.id RETURNING 1)
		SELECT 1 / (count(*) = (SELECT count(*) FROM u))::int FROM n`
	insertTrades    = unnestSQL("trades", tradeColumns, "", "") // a duplicate id is an error
	upsertBalances  = unnestSQL("balances", balanceColumns, "account_id, currency", "")
	insertTransfers = unnestSQL("transfers", transferColumns, "", "")
	upsertSupply    = unnestSQL("supply", supplyColumns, "currency", "")
	upsertFeeRates  = unnestSQL("fee_rates", feeRateColumns, "account_id", "")
	upsertCandles   = unnestSQL("candles", candleColumns, "market, timeframe, start", "")
)

const (
	upsertCounters = `INSERT INTO counters (id, order_id, trade_id, transfer_id, seq, time) VALUES (1, $1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id, trade_id = excluded.trade_id,
		transfer_id = excluded.transfer_id, seq = excluded.seq, time = excluded.time`
	upsertMeta = `INSERT INTO meta (key, value) SELECT * FROM unnest($1::text[], $2::text[])
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	// A key's use is written unless a later one (by Seq) is stored, as
	// keyUseSQL does for one.
	updateKeyUses = `UPDATE api_keys k SET last_nonce = u.nonce, last_used = u.used, last_ip = u.ip, use_seq = u.seq
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[]) AS u(id, nonce, used, ip, seq)
		WHERE k.id = u.id AND k.use_seq < u.seq`
	// A replay mark already there keeps the later end, as keyReplaySQL.
	upsertKeyReplays = `INSERT INTO key_replays (key_id, sig, until) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
		ON CONFLICT (key_id, sig) DO UPDATE SET until = GREATEST(key_replays.until, excluded.until)`
	// The projected sequence only goes forward.
	advanceJournalSeq = `INSERT INTO journal_state (id, seq, journal_id) VALUES (1, $1, '')
		ON CONFLICT (id) DO UPDATE SET seq = GREATEST(journal_state.seq, excluded.seq)`
)

// columns holds one table's rows of a batch as one slice per column, the
// arrays unnest takes, or, for COPY, as the rows of PostgreSQL's binary
// copy format in bin. Its slices are reused from batch to batch.
type columns struct {
	ints [][]int64 // by column index; unused for text columns
	strs [][]string
	i    int // the column the next value goes to
	kind []column
	// copying: the values go to bin, encoded for COPY ... (FORMAT
	// binary); err is the first value that did not fit its column.
	copying  bool
	bin      []byte
	rowBytes int // the last copy's bytes per row
	err      error
}

func (c *columns) reset(cs []column) {
	c.copying, c.err = false, nil
	if cap(c.bin) > maxKeptCopy {
		c.bin = nil // one huge batch (a recovery's) does not pin its buffer
	} else if len(c.bin) > 0 {
		c.bin = c.bin[:0]
	}
	if c.kind == nil {
		c.kind = cs
		c.ints = make([][]int64, len(cs))
		c.strs = make([][]string, len(cs))
	}
	for i := range cs {
		c.ints[i] = c.ints[i][:0]
		clear(c.strs[i]) // don't keep the last batch's strings alive
		c.strs[i] = c.strs[i][:0]
	}
}

func (c *columns) row() {
	c.i = 0
	if c.copying {
		c.bin = binary.BigEndian.AppendUint16(c.bin, uint16(len(c.kind))) // the tuple's field count
	}
}

func (c *columns) int(v int64) {
	switch {
	case !c.copying:
		c.ints[c.i] = append(c.ints[c.i], v)
	case c.kind[c.i].small:
		if v < math.MinInt16 || v > math.MaxInt16 {
			if c.err == nil {
				c.err = fmt.Errorf("postgres: %d does not fit column %s (smallint)", v, c.kind[c.i].name)
			}
			v = 0
		}
		c.bin = binary.BigEndian.AppendUint32(c.bin, 2)
		c.bin = binary.BigEndian.AppendUint16(c.bin, uint16(v))
	default:
		c.bin = binary.BigEndian.AppendUint32(c.bin, 8)
		c.bin = binary.BigEndian.AppendUint64(c.bin, uint64(v))
	}
	c.i++
}

func (c *columns) str(v string) {
	if c.copying {
		// A text column's binary form is its bytes; the server checks
		// their encoding, as for any text it is sent.
		c.bin = binary.BigEndian.AppendUint32(c.bin, uint32(len(v)))
		c.bin = append(c.bin, v...)
	} else {
		c.strs[c.i] = append(c.strs[c.i], v)
	}
	c.i++
}

// args returns the statement's arguments: one array per column.
func (c *columns) args() []any {
	a := make([]any, len(c.kind))
	for i, k := range c.kind {
		if k.text || k.wide {
			a[i] = c.strs[i]
		} else {
			a[i] = c.ints[i]
		}
	}
	return a
}

// batchBufs are the column buffers of every table a batch writes.
type batchBufs struct {
	orders, orderChanges, trades, balances, transfers, supply, feeRates, candles columns
}

// orderChangeColumns are the columns of updateOrders.
var orderChangeColumns = cols("id, filled, filled_notional, fees, held, status, cancel_reason:text, seq, updated")

// queue adds to q the statement that writes rows with sql, putting each
// row's values into c with put; no rows, no statement.
func queue[T any](q *pgx.Batch, c *columns, spec []column, sql string, rows []T, put func(*columns, *T)) {
	if len(rows) == 0 {
		return
	}
	fill(c, spec, rows, put)
	q.Queue(sql, c.args()...)
}

func fill[T any](c *columns, spec []column, rows []T, put func(*columns, *T)) {
	c.reset(spec)
	for i := range rows {
		c.row()
		put(c, &rows[i])
	}
}

// copyAtLeast is the number of rows from which a table that a batch only
// inserts into (new orders, trades) is written with COPY rather than by
// an unnest statement. The rows are encoded in PostgreSQL's binary copy
// format straight into a buffer reused from batch to batch, and streamed
// 64 KB at a time: the server inserts the first while the last are still
// on their way, where one statement's arrays are all encoded by pgx, into a
// buffer grown from nothing for each batch, before the server starts
// (docs/POSTGRES.md, What remains). Below it, a batch keeps to one round
// trip.
const copyAtLeast = 256

// copyJob is a table written with COPY: its rows are encoded in c.bin.
type copyJob struct {
	table string
	c     *columns
}

// copyOrQueue writes rows like queue, or, when there are copyAtLeast or
// more and copy is allowed (the statement is a plain insert), encodes them
// into c for COPY and returns the COPY job instead.
func copyOrQueue[T any](q *pgx.Batch, jobs []copyJob, allow bool, table string, c *columns, spec []column, sql string, rows []T, put func(*columns, *T)) []copyJob {
	if !allow || len(rows) < copyAtLeast || slices.ContainsFunc(spec, func(k column) bool { return k.wide }) {
		queue(q, c, spec, sql, rows, put)
		return jobs
	}
	c.reset(spec)
	c.copying = true
	// Room for the rows at the last batch's size per row and a little
	// more, so that a batch larger than any before grows the buffer once
	// rather than doubling it from its old size, copying as it goes.
	c.bin = slices.Grow(c.bin, len(copyHeader)+len(rows)*(c.rowBytes+c.rowBytes/8)+2)
	c.bin = append(c.bin, copyHeader...)
	for i := range rows {
		c.row()
		put(c, &rows[i])
	}
	c.bin = binary.BigEndian.AppendUint16(c.bin, 0xffff) // the trailer: a field count of -1
	c.rowBytes = (len(c.bin) - len(copyHeader) - 2) / len(rows)
	return append(jobs, copyJob{table: table, c: c})
}

// maxKeptCopy is the largest copy buffer kept from batch to batch.
const maxKeptCopy = 64 << 20

// copyHeader starts PostgreSQL's binary copy format: its signature, no
// flags, and no header extension.
const copyHeader = "PGCOPY\n\xff\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00"

// sql returns the job's COPY statement.
func (j copyJob) sql() string {
	return "COPY " + j.table + " (" + names(j.c.kind) + ") FROM STDIN (FORMAT binary)"
}

// queueBatch adds the statements that write b to q, and returns the
// tables to write with COPY first (new orders and trades, when there are
// many). With whole, every order is upserted.
func (x *exchange) queueBatch(q *pgx.Batch, b *twinex.Batch, whole bool) []copyJob { // long: one queue call per table of the batch, each listing its columns in order
	bf := &x.bufs
	jobs := x.jobs[:0]
	orders := b.Orders
	newOnly := false // orders holds new orders only: they can be inserted
	if x.highKnown && !whole {
		x.newOrders = slices.Grow(x.newOrders[:0], len(b.Orders))
		x.oldOrders = slices.Grow(x.oldOrders[:0], len(b.Orders))
		for _, o := range b.Orders {
			if o.ID > x.high {
				x.newOrders = append(x.newOrders, o)
			} else {
				x.oldOrders = append(x.oldOrders, o)
			}
		}
		orders, newOnly = x.newOrders, true
		queue(q, &bf.orderChanges, orderChangeColumns, updateOrders, x.oldOrders, func(c *columns, o *twinex.Order) {
			c.int(o.ID)
			c.int(o.Filled)
			c.int(o.FilledNotional)
			c.int(o.Fees)
			c.int(o.Held)
			c.int(int64(o.Status))
			c.str(o.CancelReason)
			c.int(o.Seq)
			c.int(o.Updated)
		})
	}
	jobs = copyOrQueue(q, jobs, newOnly, "orders", &bf.orders, orderColumns, upsertOrders, orders, func(c *columns, o *twinex.Order) {
		c.int(o.ID)
		c.str(o.ClientOrderID)
		c.int(o.AccountID)
		c.str(o.Session)
		c.str(o.Market)
		c.int(int64(o.Side))
		c.int(int64(o.Type))
		c.int(int64(o.Option))
		c.int(o.Price)
		c.int(o.StopPrice)
		c.int(o.Amount)
		c.int(o.Filled)
		c.int(o.FilledNotional)
		c.int(o.Fees)
		c.int(o.Held)
		c.int(o.MakerBps)
		c.int(o.TakerBps)
		c.int(int64(o.Status))
		c.str(o.CancelReason)
		c.int(o.Seq)
		c.int(o.Created)
		c.int(o.Updated)
	})
	jobs = copyOrQueue(q, jobs, true, "trades", &bf.trades, tradeColumns, insertTrades, b.Trades, func(c *columns, t *twinex.Trade) {
		c.int(t.ID)
		c.str(t.Market)
		c.int(t.Price)
		c.int(t.Amount)
		c.int(t.Notional)
		c.int(int64(t.TakerSide))
		c.int(t.MakerOrderID)
		c.int(t.TakerOrderID)
		c.int(t.MakerAccount)
		c.int(t.TakerAccount)
		c.int(t.MakerFee)
		c.int(t.TakerFee)
		c.int(t.Time)
	})
	queue(q, &bf.balances, balanceColumns, upsertBalances, b.Balances, func(c *columns, x *twinex.Balance) {
		c.int(x.AccountID)
		c.str(x.Currency)
		c.str(x.Total.String())
		c.str(x.Held.String())
	})
	queue(q, &bf.transfers, transferColumns, insertTransfers, b.Transfers, func(c *columns, t *twinex.Transfer) {
		c.int(t.ID)
		c.int(int64(t.Kind))
		c.int(t.AccountID)
		c.str(t.Currency)
		c.int(t.Amount)
		c.int(t.Fee)
		c.int(t.Counterparty)
		c.str(t.Destination)
		c.str(t.TxHash)
		c.str(t.ClientID)
		c.str(t.Method)
		c.int(t.Time)
	})
	queue(q, &bf.supply, supplyColumns, upsertSupply, b.Supply, func(c *columns, s *twinex.Supply) {
		c.str(s.Currency)
		c.str(s.Net.String())
	})
	queue(q, &bf.feeRates, feeRateColumns, upsertFeeRates, b.FeeRates, func(c *columns, f *twinex.AccountFees) {
		c.int(f.AccountID)
		c.int(f.MakerBps)
		c.int(f.TakerBps)
	})
	queue(q, &bf.candles, candleColumns, upsertCandles, b.Candles, func(c *columns, k *twinex.Candle) {
		c.str(k.Market)
		c.str(k.Timeframe)
		c.int(k.Start)
		c.int(k.Open)
		c.int(k.High)
		c.int(k.Low)
		c.int(k.Close)
		c.int(k.Volume)
		c.str(k.QuoteVolume.String())
	})
	if c := b.Counters; c != (twinex.Counters{}) {
		q.Queue(upsertCounters, c.OrderID, c.TradeID, c.TransferID, c.Seq, c.Time)
	}
	if len(b.Meta) > 0 {
		keys := make([]string, 0, len(b.Meta))
		for k := range b.Meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = b.Meta[k]
		}
		q.Queue(upsertMeta, keys, vals)
	}
	if len(b.KeyUses) > 0 {
		uses := latestUses(b.KeyUses)
		ids, nonces, ips := make([]string, len(uses)), make([]string, len(uses)), make([]string, len(uses))
		used, seqs := make([]int64, len(uses)), make([]int64, len(uses))
		for i, u := range uses {
			ids[i], nonces[i], used[i], ips[i], seqs[i] = u.ID, u.LastNonce, u.LastUsed, u.LastIP, u.Seq
		}
		q.Queue(updateKeyUses, ids, nonces, used, ips, seqs)
	}
	if len(b.KeyReplays) > 0 {
		marks := latestReplays(b.KeyReplays)
		keys, sigs, until := make([]string, len(marks)), make([]string, len(marks)), make([]int64, len(marks))
		for i, m := range marks {
			keys[i], sigs[i], until[i] = m.KeyID, m.Sig, m.Until
		}
		q.Queue(upsertKeyReplays, keys, sigs, until)
	}
	if b.JournalSeq > 0 {
		q.Queue(advanceJournalSeq, int64(b.JournalSeq))
	}
	x.jobs = jobs
	return jobs
}

// latestUses returns the latest use (by Seq) of each key, in key id order,
// so that two transactions touching the same keys lock their rows in the
// same order (as TouchKeys), and so that the UPDATE meets each key once.
func latestUses(uses []twinex.KeyUse) []twinex.KeyUse {
	out := slices.Clone(uses)
	slices.SortStableFunc(out, func(x, y twinex.KeyUse) int { return cmp.Or(cmp.Compare(x.ID, y.ID), cmp.Compare(y.Seq, x.Seq)) })
	return slices.CompactFunc(out, func(x, y twinex.KeyUse) bool { return x.ID == y.ID })
}

// latestReplays returns each replay mark once, with its latest end, in key
// and signature order: one upsert may not meet the same row twice.
func latestReplays(marks []twinex.KeyReplay) []twinex.KeyReplay {
	out := slices.Clone(marks)
	slices.SortFunc(out, func(x, y twinex.KeyReplay) int {
		return cmp.Or(cmp.Compare(x.KeyID, y.KeyID), cmp.Compare(x.Sig, y.Sig), cmp.Compare(y.Until, x.Until))
	})
	return slices.CompactFunc(out, func(x, y twinex.KeyReplay) bool { return x.KeyID == y.KeyID && x.Sig == y.Sig })
}

// conn returns the writer connection (durable) or the projector's,
// connecting it first if needed. x.mu must be held.
func (db *DB) conn(ctx context.Context, durable bool) (*pgx.Conn, error) {
	c := &db.x.p
	if durable {
		c = &db.x.w
	}
	if *c != nil && !(*c).IsClosed() {
		return *c, nil
	}
	conn, err := pgx.ConnectConfig(ctx, db.cfg)
	if err != nil {
		return nil, err
	}
	if err := setDurability(ctx, conn, durable); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	*c = conn
	return conn, nil
}

// setDurability makes conn's commits wait for the write-ahead log to be
// flushed (durable) or not. A durable connection keeps the server's
// synchronous_commit (local, remote_write, on or remote_apply, which an
// operator with a synchronous standby chooses) unless it is off, which
// would make Commit lie.
func setDurability(ctx context.Context, conn *pgx.Conn, durable bool) error {
	if !durable {
		_, err := conn.Exec(ctx, `SET synchronous_commit = off`)
		return err
	}
	var mode string
	if err := conn.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&mode); err != nil {
		return err
	}
	if mode == "off" {
		_, err := conn.Exec(ctx, `SET synchronous_commit = on`)
		return err
	}
	return nil
}

// write sends b's statements through the writer (durable) or the
// projector's connection, in one round trip and one transaction: the
// statements of a pgx.Batch sent without BEGIN run in PostgreSQL's
// implicit transaction, which ends at the batch's single Sync, so that
// either all of them commit or, at the first error, none.
func (db *DB) write(ctx context.Context, durable bool, b *twinex.Batch) error {
	db.x.mu.Lock()
	defer db.x.mu.Unlock()
	conn, err := db.conn(ctx, durable)
	if err != nil {
		return err
	}
	x := &db.x
	if !x.highKnown && len(b.Orders) > 0 {
		if err := conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM orders`).Scan(&x.high); err != nil {
			return err
		}
		x.highKnown = true
	}
	send := func(whole bool) error {
		var q pgx.Batch
		jobs := x.queueBatch(&q, b, whole)
		if len(jobs) > 0 {
			return fenced(copyThenSend(ctx, conn, db.fence, jobs, &q))
		}
		if q.Len() == 0 {
			return nil
		}
		if db.fence != 0 {
			var f pgx.Batch
			f.Queue(fenceSQL, db.fence)
			q.QueuedQueries = append(f.QueuedQueries, q.QueuedQueries...)
		}
		return fenced(conn.SendBatch(ctx, &q).Close())
	}
	err = send(false)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "22012" || // division_by_zero: an order taken as stored was not
		pe.Code == "23505" && pe.ConstraintName == "orders_pkey") { // an order taken as new was stored
		x.highKnown = false
		err = send(true)
	}
	if err != nil {
		x.highKnown = false // read again: the transaction may have failed after the write of another
		return err
	}
	for _, o := range b.Orders {
		x.high = max(x.high, o.ID)
	}
	return nil
}

// copyThenSend writes jobs with COPY and then q's statements, in one
// transaction: BEGIN, the fence, the COPYs, then q and COMMIT.
func copyThenSend(ctx context.Context, conn *pgx.Conn, fence int64, jobs []copyJob, q *pgx.Batch) (err error) {
	for _, j := range jobs {
		if j.c.err != nil {
			return j.c.err // nothing sent
		}
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // the write's error is the one to report
		}
	}()
	if fence != 0 {
		if _, err := tx.Exec(ctx, fenceSQL, fence); err != nil {
			return err
		}
	}
	for _, j := range jobs {
		if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(j.c.bin), j.sql()); err != nil {
			return err
		}
	}
	if q.Len() > 0 {
		if err := tx.SendBatch(ctx, q).Close(); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// exec runs one statement on conn, after the fence when the store has
// one, in one round trip and one implicit transaction (see write).
func exec(ctx context.Context, conn *pgx.Conn, fence int64, sql string, args ...any) error {
	if fence == 0 {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	}
	var q pgx.Batch
	q.Queue(fenceSQL, fence)
	q.Queue(sql, args...)
	return fenced(conn.SendBatch(ctx, &q).Close())
}

// Commit writes b in one transaction, durably: orders, balances, supply,
// fee rates and candles are upserted (the batch holds their latest state,
// one entry per key; an order's AccountID and ClientOrderID are taken as
// fixed at its first write), trades and transfers inserted (an id already
// stored, or twice in b, is an error and nothing of b is written), meta
// entries upserted, key uses written unless a later use is stored, replay
// marks upserted keeping the later end. b.Counters is written unless it is
// the zero value, so a batch that leaves the counters unset cannot rewind
// them; b.JournalSeq moves the projected sequence forward, never back.
func (db *DB) Commit(ctx context.Context, b *twinex.Batch) error {
	if err := db.write(ctx, true, b); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Project writes b like Commit, in one transaction, through the
// projector's connection, whose commits do not wait for the write-ahead
// log to reach the disk (synchronous_commit off). That is safe because
// the journal holds what a projection projects: a crash of the database
// server may lose the latest projections, but PostgreSQL's asynchronous
// commits are still atomic and still in commit order, so it loses whole
// transactions from the end and never part of one, and the recovery
// replays the journal from the sequence that survived (journal_state is
// written in the same transaction). A Checkpoint makes them all durable
// before the journal records they cover are dropped.
func (db *DB) Project(ctx context.Context, b *twinex.Batch) error {
	if err := db.write(ctx, false, b); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}

// Checkpoint makes every projection so far durable. It commits one write
// (journal_state's row rewritten as it is) through the durable
// connection: PostgreSQL's write-ahead log is one sequence, and a commit
// with synchronous_commit on returns only once the log is flushed up to
// its own commit record, which comes after the commit records of every
// projection that returned before it, asynchronous ones included; so
// those are on disk too. (A transaction that wrote nothing would not wait
// for the flush: hence the write.)
func (db *DB) Checkpoint(ctx context.Context) error {
	db.x.mu.Lock()
	defer db.x.mu.Unlock()
	conn, err := db.conn(ctx, true)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := exec(ctx, conn, db.fence, `INSERT INTO journal_state (id, seq, journal_id) VALUES (1, 0, '')
		ON CONFLICT (id) DO UPDATE SET seq = journal_state.seq`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// JournalID returns the id of the journal the projection was written with
// ("" before the first).
func (db *DB) JournalID(ctx context.Context) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT journal_id FROM journal_state WHERE id = 1`).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
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
	db.x.mu.Lock()
	defer db.x.mu.Unlock()
	conn, err := db.conn(ctx, true)
	if err == nil {
		err = exec(ctx, conn, db.fence, `INSERT INTO journal_state (id, seq, journal_id) VALUES (1, 0, $1)
			ON CONFLICT (id) DO UPDATE SET journal_id = excluded.journal_id`, id)
	}
	if err != nil {
		return fmt.Errorf("set journal id: %w", err)
	}
	return nil
}

// closeExchange closes the exchange store's connections.
func (db *DB) closeExchange() {
	db.x.mu.Lock()
	defer db.x.mu.Unlock()
	for _, c := range []**pgx.Conn{&db.x.w, &db.x.p} {
		if *c != nil {
			(*c).Close(context.Background())
			*c = nil
		}
	}
}
