package storetest

// The contract's commit guarantees: a failed batch leaves nothing behind,
// data survives a reopen, and a projection records how far it reached.

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/twinex/twinex"
)

// assertUntouched checks that the failed batch of testAtomic* left nothing:
// only the state committed by seed is there.
func assertUntouched(t *testing.T, h *harness, seed *twinex.Batch) {
	t.Helper()
	s := h.state()
	if s.Counters != seed.Counters {
		t.Errorf("counters = %+v, want %+v", s.Counters, seed.Counters)
	}
	equal(t, "open orders", s.OpenOrders, seed.Orders)
	equal(t, "balances", s.Balances, seed.Balances)
	equal(t, "supply", s.Supply, seed.Supply)
	equal(t, "fee rates", s.FeeRates, seed.FeeRates)
	if !reflect.DeepEqual(s.Meta, seed.Meta) {
		t.Errorf("meta = %q, want %q", s.Meta, seed.Meta)
	}
	equal(t, "trades", h.trades(twinex.TradeQuery{}), seed.Trades)
	equal(t, "transfers", h.transfers(twinex.TransferQuery{AccountID: 100}), seed.Transfers)
	equal(t, "candles", h.candles(twinex.CandleQuery{Market: "btcusd", Timeframe: "1m"}), seed.Candles)
}

// seedAndFailing commits a small seed batch and returns it with a batch that
// touches every table (the caller makes it fail).
func seedAndFailing(h *harness) (seed, bad *twinex.Batch) {
	seed = &twinex.Batch{
		Orders:    []twinex.Order{order(1, 100)},
		Trades:    []twinex.Trade{trade(1)},
		Balances:  []twinex.Balance{{AccountID: 100, Currency: "usd", Total: twinex.I128(10)}},
		Transfers: []twinex.Transfer{transfer(1, 100)},
		Supply:    []twinex.Supply{{Currency: "usd", Net: twinex.I128(10)}},
		FeeRates:  []twinex.AccountFees{{AccountID: 100, FeeRates: twinex.DefaultFeeRates}},
		Candles:   []twinex.Candle{{Market: "btcusd", Timeframe: "1m", Start: 60e9, Close: 1}},
		Counters:  twinex.Counters{OrderID: 1, TradeID: 1, TransferID: 1, Seq: 1},
		Meta:      map[string]string{"k": "v"},
	}
	h.commit(seed)
	o := order(1, 100)
	o.Status = twinex.StatusFilled
	bad = &twinex.Batch{
		Orders:    []twinex.Order{o, order(2, 100)},
		Trades:    []twinex.Trade{trade(2)},
		Balances:  []twinex.Balance{{AccountID: 100, Currency: "usd", Total: twinex.I128(20)}, {AccountID: 101, Currency: "usd", Total: twinex.I128(1)}},
		Transfers: []twinex.Transfer{transfer(2, 100)},
		Supply:    []twinex.Supply{{Currency: "usd", Net: twinex.I128(21)}},
		FeeRates:  []twinex.AccountFees{{AccountID: 100}},
		Candles:   []twinex.Candle{{Market: "btcusd", Timeframe: "1m", Start: 60e9, Close: 2}, {Market: "btcusd", Timeframe: "1m", Start: 120e9}},
		Counters:  twinex.Counters{OrderID: 2, TradeID: 2, TransferID: 2, Seq: 2},
		Meta:      map[string]string{"k": "changed", "new": "x"},
	}
	return seed, bad
}

func testAtomicCancelledContext(t *testing.T, h *harness) {
	seed, bad := seedAndFailing(h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.s.Commit(ctx, bad); err == nil {
		t.Fatal("commit with a cancelled context succeeded")
	}
	assertUntouched(t, h, seed)
}

func testAtomicDuplicateTrade(t *testing.T, h *harness) {
	seed, bad := seedAndFailing(h)
	// Trades are inserted, not upserted: the stored trade 1 again is an error,
	// found only after the orders were written.
	bad.Trades = append(bad.Trades, trade(1))
	if err := h.s.Commit(context.Background(), bad); err == nil {
		t.Fatal("commit of a duplicate trade id succeeded")
	}
	assertUntouched(t, h, seed)
	bad.Trades = []twinex.Trade{trade(2), trade(3), trade(2)} // duplicate within the batch
	if err := h.s.Commit(context.Background(), bad); err == nil {
		t.Fatal("commit of a batch with a trade id twice succeeded")
	}
	assertUntouched(t, h, seed)
}

func testAtomicDuplicateTransfer(t *testing.T, h *harness) {
	seed, bad := seedAndFailing(h)
	bad.Transfers = append(bad.Transfers, transfer(2, 100)) // duplicate within the batch
	if err := h.s.Commit(context.Background(), bad); err == nil {
		t.Fatal("commit of a duplicate transfer id succeeded")
	}
	assertUntouched(t, h, seed)
	// The store still works after a failed commit.
	bad.Transfers = bad.Transfers[:1]
	h.commit(bad)
	if got := h.state().Counters; got != bad.Counters {
		t.Errorf("counters = %+v, want %+v", got, bad.Counters)
	}
}

func testReopen(t *testing.T, h *harness) {
	seed, _ := seedAndFailing(h)
	h.reopen()
	assertUntouched(t, h, seed)
	// And it still takes commits after reopening.
	h.commit(&twinex.Batch{Orders: []twinex.Order{order(2, 100)}, Counters: twinex.Counters{OrderID: 2, TradeID: 1, TransferID: 1, Seq: 2}})
	h.reopen()
	if got := orderIDs(h.state().OpenOrders); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("open orders after reopen = %v, want [1 2]", got)
	}
}

// testProjection: Project writes like Commit and records the journal
// sequence it reached, which only goes forward; a Checkpoint makes it
// durable.
func testProjection(t *testing.T, h *harness) {
	ctx := context.Background()
	if got := h.state().JournalSeq; got != 0 {
		t.Fatalf("a new store's journal sequence is %d", got)
	}
	c := twinex.Counters{OrderID: 1, Time: 5}
	if err := h.s.Project(ctx, &twinex.Batch{Orders: []twinex.Order{order(1, 100)}, Counters: c, JournalSeq: 7}); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Project(ctx, &twinex.Batch{Meta: map[string]string{"k": "v"}, JournalSeq: 3}); err != nil {
		t.Fatal(err)
	}
	// A commit without a sequence leaves it alone.
	h.commit(&twinex.Batch{Meta: map[string]string{"x": "y"}})
	st := h.state()
	if st.JournalSeq != 7 || st.Counters != c || len(st.OpenOrders) != 1 || st.Meta["k"] != "v" {
		t.Fatalf("after projecting: %+v", st)
	}
	if err := h.s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	h.reopen()
	if st := h.state(); st.JournalSeq != 7 || len(st.OpenOrders) != 1 {
		t.Fatalf("after checkpoint and reopen: %+v", st)
	}
	if o, err := h.s.Order(ctx, 1); err != nil || o.ID != 1 {
		t.Fatalf("projected order: %+v %v", o, err)
	}
}

// testJournalID: the id of the journal the store was projected from is
// kept durably.
func testJournalID(t *testing.T, h *harness) {
	ctx := context.Background()
	if id, err := h.s.JournalID(ctx); err != nil || id != "" {
		t.Fatalf("a new store's journal id: %q %v", id, err)
	}
	if err := h.s.Project(ctx, &twinex.Batch{JournalSeq: 4}); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SetJournalID(ctx, "j1"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SetJournalID(ctx, "j2"); err != nil {
		t.Fatal(err)
	}
	h.reopen()
	if id, err := h.s.JournalID(ctx); err != nil || id != "j2" {
		t.Fatalf("journal id after reopen: %q %v", id, err)
	}
	if got := h.state().JournalSeq; got != 4 {
		t.Fatalf("setting the id moved the sequence to %d", got)
	}
}

// testMergedBatches: a batch merged from several (Batch.Merge, as the
// projector writes them) stores the latest state of each entry.
func testMergedBatches(t *testing.T, h *harness) {
	a := &twinex.Batch{
		Orders:   []twinex.Order{order(1, 100), order(2, 100)},
		Balances: []twinex.Balance{{AccountID: 100, Currency: "USD", Total: twinex.I128(10)}},
		Trades:   []twinex.Trade{{ID: 1, Market: "btcusd", Price: 1, Amount: 1, Time: 1}},
		KeyUses:  []twinex.KeyUse{},
		Counters: twinex.Counters{OrderID: 2}, JournalSeq: 1,
	}
	o1 := order(1, 100)
	o1.Status, o1.Filled, o1.Held = twinex.StatusFilled, o1.Amount, 0
	b := &twinex.Batch{
		Orders:   []twinex.Order{o1},
		Balances: []twinex.Balance{{AccountID: 100, Currency: "USD", Total: twinex.I128(7)}, {AccountID: 101, Currency: "USD", Total: twinex.I128(3)}},
		Trades:   []twinex.Trade{{ID: 2, Market: "btcusd", Price: 1, Amount: 1, Time: 2}},
		Counters: twinex.Counters{OrderID: 3}, JournalSeq: 2,
	}
	var m twinex.Batch
	var ix twinex.MergeIndex
	m.Merge(a, &ix)
	m.Merge(b, &ix)
	if len(m.Orders) != 2 || len(m.Balances) != 2 || len(m.Trades) != 2 || m.Counters.OrderID != 3 || m.JournalSeq != 2 {
		t.Fatalf("merged %+v", m)
	}
	if err := h.s.Project(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	st := h.state()
	if len(st.OpenOrders) != 1 || st.OpenOrders[0].ID != 2 || len(st.Balances) != 2 || st.Balances[0].Total != twinex.I128(7) || st.JournalSeq != 2 {
		t.Fatalf("state after the merged batch: %+v", st)
	}
}

// largeRows returns n orders and n trades from id first on, their fields
// varied (empty client order ids and cancel reasons, closed and open,
// both sides): enough rows that a store may write them another way than
// a small batch's (the PostgreSQL store streams them with COPY).
func largeRows(first, n int64) ([]twinex.Order, []twinex.Trade) {
	var os []twinex.Order
	var ts []twinex.Trade
	for id := first; id < first+n; id++ {
		o := order(id, 100+id%5)
		if id%3 == 0 {
			o.ClientOrderID = ""
		}
		if id%4 == 0 {
			o.Side, o.Status, o.CancelReason, o.Held = twinex.Sell, twinex.StatusCancelled, twinex.ReasonRequested, 0
		}
		os = append(os, o)
		tr := trade(id)
		tr.MakerOrderID, tr.TakerOrderID, tr.Price = id-1, id, 100+id
		if id%2 == 0 {
			tr.TakerSide = twinex.Buy
		}
		ts = append(ts, tr)
	}
	return os, ts
}

// testAtomicLargeBatch: a batch of many new orders and trades that fails,
// at its trades or after them, leaves nothing behind either.
func testAtomicLargeBatch(t *testing.T, h *harness) {
	seed, bad := seedAndFailing(h)
	os, ts := largeRows(10, 400)
	bad.Orders = append(bad.Orders, os...)
	bad.Trades = append(bad.Trades, ts...)
	bad.Trades = append(bad.Trades, trade(1)) // stored already
	if err := h.s.Commit(context.Background(), bad); err == nil {
		t.Fatal("commit of a large batch with a duplicate trade id succeeded")
	}
	assertUntouched(t, h, seed)
	bad.Trades = bad.Trades[:len(bad.Trades)-1]
	bad.Transfers = append(bad.Transfers, transfer(1, 100)) // stored already, written after the trades
	if err := h.s.Commit(context.Background(), bad); err == nil {
		t.Fatal("commit of a large batch with a duplicate transfer id succeeded")
	}
	assertUntouched(t, h, seed)
}

// testLargeBatches: batches of many new orders and trades are stored
// exactly, and so is a later batch that changes those orders and adds more.
func testLargeBatches(t *testing.T, h *harness) {
	os, ts := largeRows(1, 400)
	h.commit(&twinex.Batch{Orders: os, Trades: ts})
	more, mts := largeRows(401, 300)
	for i := range os {
		if os[i].Status == twinex.StatusLive && i%2 == 0 {
			os[i].Filled, os[i].FilledNotional, os[i].Fees, os[i].Status, os[i].Seq, os[i].Updated =
				os[i].Amount, 1000, 3, twinex.StatusFilled, os[i].Seq+1000, os[i].Updated+1
		}
	}
	h.commit(&twinex.Batch{Orders: append(slices.Clone(os), more...), Trades: mts})
	os = append(os, more...)
	ts = append(ts, mts...)
	for _, want := range os {
		if got, err := h.s.Order(context.Background(), want.ID); err != nil || got != want {
			t.Fatalf("Order(%d) = %+v, %v\nwant %+v", want.ID, got, err, want)
		}
	}
	got := h.trades(twinex.TradeQuery{Limit: 1000, Ascending: true})
	equal(t, "trades", got, ts)
}
