// Package storetest is the contract test suite of twinex.ExchangeStore. Every
// store implementation runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, dir string) twinex.ExchangeStore {
//			db, err := sqlite.Open(filepath.Join(dir, "twinex.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return db
//		})
//	}
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/twinex/twinex"
)

// Opener opens a store whose data lives in dir, a fresh empty directory per
// subtest. Called again with the same dir after the first store was closed,
// it must return a store holding the same data (the suite checks persistence
// that way); stores that keep no files, like a PostgreSQL one, can use dir as
// the key of their own namespace, e.g. a schema name derived from it. The
// suite closes every store it opens; Opener fails t on error.
type Opener func(t *testing.T, dir string) twinex.ExchangeStore

// Run runs the contract suite against the stores open returns. Subtest names
// are stable so that results of different stores can be compared.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"EmptyState", testEmptyState},
		{"EmptyBatch", testEmptyBatch},
		{"RoundTrip", testRoundTrip},
		{"OrderUpsert", testOrderUpsert},
		{"OrdersAnyOrder", testOrdersAnyOrder},
		{"StateUpserts", testStateUpserts},
		{"WideValues", testWideValues},
		{"OpenOrders", testOpenOrders},
		{"ManyOpenOrders", testManyOpenOrders},
		{"Counters", testCounters},
		{"Meta", testMeta},
		{"OrderNotFound", testOrderNotFound},
		{"Orders", testOrders},
		{"Trades", testTrades},
		{"Transfers", testTransfers},
		{"Candles", testCandles},
		{"Ascending", testAscending},
		{"Limits", testLimits},
		{"AtomicCancelledContext", testAtomicCancelledContext},
		{"AtomicDuplicateTrade", testAtomicDuplicateTrade},
		{"AtomicDuplicateTransfer", testAtomicDuplicateTransfer},
		{"AtomicLargeBatch", testAtomicLargeBatch},
		{"LargeBatches", testLargeBatches},
		{"Reopen", testReopen},
		{"Projection", testProjection},
		{"JournalID", testJournalID},
		{"MergedBatches", testMergedBatches},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &harness{t: t, open: open, dir: t.TempDir()}
			h.reopen()
			tt.fn(t, h)
		})
	}
}

// harness holds the store under test and what reopening it needs.
type harness struct {
	t    *testing.T
	open Opener
	dir  string
	s    twinex.ExchangeStore
}

// reopen closes the current store, if any, and opens the same dir again.
func (h *harness) reopen() {
	h.t.Helper()
	if h.s != nil {
		if err := h.s.Close(); err != nil {
			h.t.Fatalf("close: %v", err)
		}
		h.s = nil
	}
	s := h.open(h.t, h.dir)
	h.s = s
	h.t.Cleanup(func() {
		if h.s == s {
			if err := s.Close(); err != nil {
				h.t.Errorf("close: %v", err)
			}
			h.s = nil
		}
	})
}

func (h *harness) commit(b *twinex.Batch) {
	h.t.Helper()
	if err := h.s.Commit(context.Background(), b); err != nil {
		h.t.Fatalf("commit: %v", err)
	}
}

func (h *harness) state() *twinex.State {
	h.t.Helper()
	s, err := h.s.LoadState(context.Background())
	if err != nil {
		h.t.Fatalf("load state: %v", err)
	}
	return s
}

func (h *harness) orders(q twinex.OrderQuery) []twinex.Order {
	h.t.Helper()
	os, err := h.s.Orders(context.Background(), q)
	if err != nil {
		h.t.Fatalf("orders %+v: %v", q, err)
	}
	return os
}

func (h *harness) trades(q twinex.TradeQuery) []twinex.Trade {
	h.t.Helper()
	ts, err := h.s.Trades(context.Background(), q)
	if err != nil {
		h.t.Fatalf("trades %+v: %v", q, err)
	}
	return ts
}

func (h *harness) transfers(q twinex.TransferQuery) []twinex.Transfer {
	h.t.Helper()
	ts, err := h.s.Transfers(context.Background(), q)
	if err != nil {
		h.t.Fatalf("transfers %+v: %v", q, err)
	}
	return ts
}

func (h *harness) candles(q twinex.CandleQuery) []twinex.Candle {
	h.t.Helper()
	cs, err := h.s.Candles(context.Background(), q)
	if err != nil {
		h.t.Fatalf("candles %+v: %v", q, err)
	}
	return cs
}

// equal fails t unless got equals want, treating nil and empty slices alike.
func equal[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if reflect.DeepEqual(got, want) {
		return
	}
	if len(got) > 20 || len(want) > 20 { // say where, not everything
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s: %d got, %d wanted; the first difference at %d:\n got %+v\nwant %+v", what, len(got), len(want), i, got[i], want[i])
				return
			}
		}
		t.Errorf("%s: %d got, %d wanted, the same up to the shorter's end", what, len(got), len(want))
		return
	}
	t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
}

// ids returns the ids of xs, for compact comparisons.
func ids[T any](xs []T, id func(T) int64) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func orderIDs(os []twinex.Order) []int64 { return ids(os, func(o twinex.Order) int64 { return o.ID }) }
func tradeIDs(ts []twinex.Trade) []int64 { return ids(ts, func(t twinex.Trade) int64 { return t.ID }) }
func candleStarts(cs []twinex.Candle) []int64 {
	return ids(cs, func(c twinex.Candle) int64 { return c.Start })
}
func transferIDs(ts []twinex.Transfer) []int64 {
	return ids(ts, func(t twinex.Transfer) int64 { return t.ID })
}

// order returns a plausible live order; tests change what they need.
func order(id, account int64) twinex.Order {
	return twinex.Order{
		ID: id, ClientOrderID: fmt.Sprintf("c%d", id), AccountID: account, Session: "UI",
		Market: "btcusd", Side: twinex.Buy, Type: twinex.Limit, Price: 100, Amount: 10,
		Held: 1000, Status: twinex.StatusLive, Seq: id, Created: id * 1000, Updated: id * 1000,
	}
}

func trade(id int64) twinex.Trade {
	return twinex.Trade{
		ID: id, Market: "btcusd", Price: 100, Amount: 1, Notional: 100, TakerSide: twinex.Sell,
		MakerOrderID: 1, TakerOrderID: 2, MakerAccount: 100, TakerAccount: 101,
		MakerFee: 1, TakerFee: 3, Time: id * 1000,
	}
}

func transfer(id, account int64) twinex.Transfer {
	return twinex.Transfer{
		ID: id, Kind: twinex.Deposit, AccountID: account, Currency: "usd", Amount: 100,
		Method: "ACH", Time: id * 1000,
	}
}
