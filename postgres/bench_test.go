package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex"
	"github.com/twinex/twinex/bench"
	"github.com/twinex/twinex/postgres"
)

// BenchmarkAddActivity writes the activity log in batches of the sizes the
// recorder produces (up to 4096 records), from 20 keys over a few
// minutes, as under load.
func BenchmarkAddActivity(b *testing.B) {
	for _, n := range []int{1, 64, 4096} {
		b.Run(fmt.Sprint("batch=", n), func(b *testing.B) {
			db := open(b, pg.Schema(b))
			defer db.Close()
			ctx := context.Background()
			recs := make([]twinex.Activity, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				for j := range recs {
					t := int64(i*n+j) * 1e6
					recs[j] = twinex.Activity{Time: t, KeyID: fmt.Sprint("account-", j%20), UserID: int64(1 + j%20), AccountID: 100,
						IP: "192.0.2.1", Method: "POST", Path: "/v1/order/new", Status: 200, Latency: 120, Counted: true}
				}
				if err := db.AddActivity(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// commitBatch fills b with the i-th batch of the commit benchmarks, the
// SQLite store's benchBatch: 1000 orders (half new, half updates of the
// previous batch's), 500 trades and 200 balances.
func commitBatch(b *twinex.Batch, i int64) {
	b.Reset()
	base := i * 500
	for j := int64(0); j < 1000; j++ {
		id := base + j
		b.Orders = append(b.Orders, twinex.Order{
			ID: id + 1, ClientOrderID: fmt.Sprint("client-", id), AccountID: 100 + id%1000,
			Session: "account-abcdefghijklmnop", Market: "btcusd", Side: twinex.Side(1 + id%2),
			Type: twinex.Limit, Price: 5_000_000 + id%100, Amount: 1_000_000, Filled: j % 3,
			FilledNotional: 123456789, Fees: 1234, Held: 5_000_000_000,
			Status: twinex.OrderStatus(2 + j%2), Seq: id + 1, Created: 1.7e18 + id, Updated: 1.7e18 + id,
		})
	}
	for j := int64(0); j < 500; j++ {
		id := i*500 + j + 1
		b.Trades = append(b.Trades, twinex.Trade{
			ID: id, Market: "btcusd", Price: 5_000_000, Amount: 1000, Notional: 5_000_000_000,
			TakerSide: twinex.Buy, MakerOrderID: base + j, TakerOrderID: base + j + 1,
			MakerAccount: 100 + j%1000, TakerAccount: 100 + (j+7)%1000, MakerFee: 100, TakerFee: 350,
			Time: 1.7e18 + id,
		})
	}
	for j := int64(0); j < 200; j++ {
		b.Balances = append(b.Balances, twinex.Balance{
			AccountID: 100 + (i*200+j)%5000, Currency: []string{"usd", "btc"}[j%2], Total: twinex.I128(1e12 + i), Held: twinex.I128(i),
		})
	}
	b.Counters = twinex.Counters{OrderID: base + 1000, TradeID: i*500 + 500, TransferID: 0, Seq: base + 1000}
}

// BenchmarkCommit commits batches of 1000 orders + 500 trades + 200
// balances, durably (Commit) and as a projection (Project), against the
// same batches written with COPY into temporary tables merged with INSERT
// ... SELECT ... ON CONFLICT (copyCommit), the other way to write a batch
// of thousands of rows.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	for _, how := range []string{"Commit", "Project", "COPY"} {
		b.Run(how, func(b *testing.B) {
			url := pg.Schema(b)
			db := open(b, url)
			defer db.Close()
			write := db.Commit
			switch how {
			case "Project":
				write = db.Project
			case "COPY":
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close(ctx)
				write = func(ctx context.Context, batch *twinex.Batch) error { return copyCommit(ctx, conn, batch) }
			}
			var batch twinex.Batch
			var rows int
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				commitBatch(&batch, int64(i))
				rows += len(batch.Orders) + len(batch.Trades) + len(batch.Balances)
				b.StartTimer()
				if err := write(ctx, &batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// copyCommit writes a batch's orders, trades and balances with COPY: the
// trades straight into their table, the orders and balances into
// temporary tables merged into theirs by one upsert each, all in one
// transaction. It is the store's Commit written the other way, kept here
// to measure it (docs/POSTGRES.md).
func copyCommit(ctx context.Context, conn *pgx.Conn, b *twinex.Batch) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, q := range []string{
			`CREATE TEMP TABLE IF NOT EXISTS orders_in (LIKE orders) ON COMMIT DELETE ROWS`,
			`CREATE TEMP TABLE IF NOT EXISTS balances_in (LIKE balances) ON COMMIT DELETE ROWS`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		orderCols := []string{"id", "client_order_id", "account_id", "session", "market", "side", "order_type", "exec_option",
			"price", "stop_price", "amount", "filled", "filled_notional", "fees", "held", "maker_bps", "taker_bps", "status",
			"cancel_reason", "seq", "created", "updated"}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"orders_in"}, orderCols, pgx.CopyFromSlice(len(b.Orders), func(i int) ([]any, error) {
			o := &b.Orders[i]
			return []any{o.ID, o.ClientOrderID, o.AccountID, o.Session, o.Market, int16(o.Side), int16(o.Type), int16(o.Option),
				o.Price, o.StopPrice, o.Amount, o.Filled, o.FilledNotional, o.Fees, o.Held, o.MakerBps, o.TakerBps, int16(o.Status),
				o.CancelReason, o.Seq, o.Created, o.Updated}, nil
		})); err != nil {
			return err
		}
		var set []string
		for _, c := range orderCols[1:] {
			if c != "account_id" && c != "client_order_id" {
				set = append(set, c+" = excluded."+c)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO orders SELECT * FROM orders_in ON CONFLICT (id) DO UPDATE SET `+strings.Join(set, ", ")); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"trades"}, []string{"id", "market", "price", "amount", "notional", "taker_side",
			"maker_order_id", "taker_order_id", "maker_account", "taker_account", "maker_fee", "taker_fee", "time"},
			pgx.CopyFromSlice(len(b.Trades), func(i int) ([]any, error) {
				t := &b.Trades[i]
				return []any{t.ID, t.Market, t.Price, t.Amount, t.Notional, int16(t.TakerSide), t.MakerOrderID, t.TakerOrderID,
					t.MakerAccount, t.TakerAccount, t.MakerFee, t.TakerFee, t.Time}, nil
			})); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"balances_in"}, []string{"account_id", "currency", "total", "held"},
			pgx.CopyFromSlice(len(b.Balances), func(i int) ([]any, error) {
				x := &b.Balances[i]
				return []any{x.AccountID, x.Currency, x.Total, x.Held}, nil
			})); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO balances SELECT * FROM balances_in
			ON CONFLICT (account_id, currency) DO UPDATE SET total = excluded.total, held = excluded.held`); err != nil {
			return err
		}
		c := b.Counters
		_, err := tx.Exec(ctx, `INSERT INTO counters (id, order_id, trade_id, transfer_id, seq, time) VALUES (1, $1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id, trade_id = excluded.trade_id,
			transfer_id = excluded.transfer_id, seq = excluded.seq, time = excluded.time`, c.OrderID, c.TradeID, c.TransferID, c.Seq, c.Time)
		return err
	})
}

// unprojected is a store whose projections are dropped: the durable
// core over it measures the journal alone, the ceiling the projection can
// only lower.
type unprojected struct{ *postgres.DB }

func (unprojected) Project(context.Context, *twinex.Batch) error { return nil }

// BenchmarkDurableCore runs bench engine's durable workload (the
// sequencer and group commit, from 2,048 concurrent clients) on
// PostgreSQL: with the PostgreSQL journal as the durability point and the
// store as its projection; without a journal (each batch committed to
// the store); and with the journal but no projection (unprojected). Run it with -benchtime=1x: one run is 200,000 commands, a
// size fixed so that runs compare.
func BenchmarkDurableCore(b *testing.B) {
	for _, journal := range []string{"postgres", "none", "postgres-unprojected"} {
		b.Run("journal="+journal, func(b *testing.B) {
			var url string
			cfg := bench.EngineConfig{Orders: 200_000, Seed: 1, Durable: true, Journal: journal,
				OpenStore: func(string) (twinex.ExchangeStore, error) {
					url = pg.Schema(b)
					db, err := postgres.Open(context.Background(), url)
					if err != nil || journal != "postgres-unprojected" {
						return db, err
					}
					return unprojected{db}, nil
				}}
			if journal != "none" {
				cfg.OpenJournal = func(string) (twinex.Journal, error) { return postgres.OpenJournal(context.Background(), url) }
			}
			var res bench.EngineResult
			for range b.N {
				var err error
				if res, err = bench.Engine(context.Background(), cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(res.OpsPerSec, "commands/s")
			b.ReportMetric(float64(res.P50)/1e6, "p50-ms")
			b.ReportMetric(float64(res.P99)/1e6, "p99-ms")
			if res.SustainedPerSec > 0 {
				b.ReportMetric(res.SustainedPerSec, "sustained-commands/s")
			}
			out, _ := json.Marshal(res)
			b.Log(string(out))
		})
	}
}

// BenchmarkJournalAppend appends one record per call, as the committer
// does once per batch, of the sizes of a batch of a few commands up to a
// few thousand (about 60 bytes a command), each append durable.
func BenchmarkJournalAppend(b *testing.B) {
	for _, size := range []int{256, 16 << 10, 256 << 10} {
		b.Run(fmt.Sprint("bytes=", size), func(b *testing.B) {
			j, err := postgres.OpenJournal(context.Background(), pg.Schema(b))
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i * 7 % 251) // compresses somewhat, as encoded commands do
			}
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := range b.N {
				if err := j.Append(context.Background(), []twinex.JournalRecord{{Seq: uint64(i + 1), Data: data}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}
