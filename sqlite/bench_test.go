package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

// benchBatch fills b with the i-th batch of the benchmark: 1000 orders (half
// new, half updates of the previous batch's), 500 trades and 200 balances.
func benchBatch(b *twinex.Batch, i int64) {
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

// BenchmarkCommit commits batches of 1000 orders + 500 trades + 200 balances.
func BenchmarkCommit(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "twinex.db"))
	defer db.Close()
	ctx := context.Background()
	var batch twinex.Batch
	var rows int
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		benchBatch(&batch, int64(i))
		rows += len(batch.Orders) + len(batch.Trades) + len(batch.Balances)
		b.StartTimer()
		if err := db.Commit(ctx, &batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkProject writes the same batches through the projection's
// connection, which commits without an fsync: the CPU cost per row of the
// journal's projection.
func BenchmarkProject(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "twinex.db"))
	defer db.Close()
	ctx := context.Background()
	var batch twinex.Batch
	var rows int
	var cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		benchBatch(&batch, int64(i))
		rows += len(batch.Orders) + len(batch.Trades) + len(batch.Balances)
		c0 := processCPU(b)
		b.StartTimer()
		if err := db.Project(ctx, &batch); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += processCPU(b) - c0
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	// The process's CPU time, not the wall clock: the figure does not
	// depend on who else shares the cores.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows), "cpu-ns/row")
}

// processCPU is the CPU time the process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoadState loads 100,000 open orders (among 200,000).
func BenchmarkLoadState(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "twinex.db"))
	defer db.Close()
	ctx := context.Background()
	var batch twinex.Batch
	for i := range int64(400) { // 400 x 500 new orders, every other one left live
		benchBatch(&batch, i)
		batch.Trades, batch.Balances = nil, nil
		if err := db.Commit(ctx, &batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var n int
	for range b.N {
		s, err := db.LoadState(ctx)
		if err != nil {
			b.Fatal(err)
		}
		n = len(s.OpenOrders)
	}
	b.ReportMetric(float64(n), "open-orders")
	b.Logf("LoadState of %d open orders: %v", n, time.Since(start)/time.Duration(b.N))
}
