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
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
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
		{"StateUpserts", testStateUpserts},
		{"OpenOrders", testOpenOrders},
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
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
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

func testEmptyState(t *testing.T, h *harness) {
	s := h.state()
	if s.Counters != (twinex.Counters{}) {
		t.Errorf("counters = %+v, want zero", s.Counters)
	}
	if len(s.OpenOrders)+len(s.Balances)+len(s.Supply)+len(s.FeeRates) != 0 {
		t.Errorf("empty store loaded %+v", s)
	}
	if s.Meta == nil || len(s.Meta) != 0 {
		t.Errorf("meta = %#v, want an empty non-nil map", s.Meta)
	}
}

func testEmptyBatch(t *testing.T, h *harness) {
	h.commit(&twinex.Batch{})
	if s := h.state(); s.Counters != (twinex.Counters{}) || len(s.OpenOrders) != 0 {
		t.Errorf("after empty batch: %+v", s)
	}
}

// big returns one of the int64 values every column must keep exactly.
func big(i int) int64 {
	bigs := [...]int64{0, 1, -1, 1 << 62, -(1 << 62), 1<<62 + 1, math.MaxInt64, math.MinInt64}
	return bigs[i%len(bigs)]
}

// str returns one of the strings that trip careless escaping or encoding.
// (No NUL bytes: PostgreSQL text rejects them.)
func str(i int) string {
	strs := [...]string{"", "btcusd", "ünïcødé ✓ 比特币 🚀", "it's \"quoted\"; --", " spaced ", "a\nb\tc\\"}
	return strs[i%len(strs)]
}

func testRoundTrip(t *testing.T, h *harness) {
	var b twinex.Batch
	var n int // varies every field
	next := func() int { n++; return n }
	statuses := []twinex.OrderStatus{twinex.StatusPending, twinex.StatusLive, twinex.StatusFilled, twinex.StatusCancelled}
	// Every combination of the order enums, with extreme numbers and odd strings.
	id := int64(0)
	for _, side := range []twinex.Side{twinex.Buy, twinex.Sell} {
		for _, typ := range []twinex.OrderType{twinex.Limit, twinex.StopLimit} {
			for _, opt := range []twinex.Option{twinex.NoOption, twinex.MakerOrCancel, twinex.ImmediateOrCancel, twinex.FillOrKill} {
				for _, st := range statuses {
					id++
					b.Orders = append(b.Orders, twinex.Order{
						ID: id, ClientOrderID: str(next()), AccountID: 100 + id%3, Session: str(next()),
						Market: str(next()), Side: side, Type: typ, Option: opt,
						Price: big(next()), StopPrice: big(next()), Amount: big(next()),
						Filled: big(next()), FilledNotional: big(next()), Fees: big(next()),
						Held: big(next()), MakerBps: big(next()), TakerBps: big(next()),
						Status: st, CancelReason: str(next()),
						Seq: id*7 - 1000, Created: big(next()), Updated: big(next()),
					})
				}
			}
		}
	}
	// Ids at the extremes too.
	for _, oid := range []int64{1 << 62, math.MaxInt64} {
		o := order(oid, 1<<62)
		o.Seq = 1 << 61
		b.Orders = append(b.Orders, o)
	}
	for i := range 16 {
		b.Trades = append(b.Trades, twinex.Trade{
			ID: int64(i + 1), Market: str(next()), Price: big(next()), Amount: big(next()),
			Notional: big(next()), TakerSide: twinex.Side(1 + i%2), MakerOrderID: big(next()),
			TakerOrderID: big(next()), MakerAccount: 500, TakerAccount: 500,
			MakerFee: big(next()), TakerFee: big(next()), Time: big(next()),
		})
	}
	for i := range 16 {
		b.Transfers = append(b.Transfers, twinex.Transfer{
			ID: int64(i + 1), Kind: twinex.TransferKind(1 + i%4), AccountID: 600,
			Currency: fmt.Sprintf("c%d", i%3), Amount: big(next()), Fee: big(next()),
			Counterparty: big(next()), Destination: str(next()), TxHash: str(next()),
			ClientID: str(next()), Method: str(next()), Time: big(next()),
		})
		b.Balances = append(b.Balances, twinex.Balance{
			AccountID: big(i), Currency: str(i + 1), Total: big(next()), Held: big(next()),
		})
		b.Supply = append(b.Supply, twinex.Supply{Currency: fmt.Sprintf("%s/%d", str(i), i), Net: big(next())})
		b.FeeRates = append(b.FeeRates, twinex.AccountFees{
			AccountID: int64(i) - 8, FeeRates: twinex.FeeRates{MakerBps: big(next()), TakerBps: big(next())},
		})
		b.Candles = append(b.Candles, twinex.Candle{
			Market: "ethusd", Timeframe: "1m", Start: big(i) / 2 * 2, // distinct starts
			Open: big(next()), High: big(next()), Low: big(next()), Close: big(next()),
			Volume: big(next()), QuoteVolume: big(next()),
		})
	}
	// Balances keys must be distinct: big(i) repeats after len(bigs).
	b.Balances = dedupe(b.Balances, func(x twinex.Balance) string { return fmt.Sprint(x.AccountID, "/", x.Currency) })
	b.Candles = dedupe(b.Candles, func(x twinex.Candle) string { return fmt.Sprint(x.Start) })
	b.Counters = twinex.Counters{OrderID: math.MaxInt64, TradeID: 1 << 62, TransferID: -(1 << 62), Seq: 1, Time: 1 << 61}
	b.Meta = map[string]string{"": "empty key", "ünï": "", "k": str(2)}
	h.commit(&b)

	check := func(t *testing.T) {
		s := h.state()
		if s.Counters != b.Counters {
			t.Errorf("counters = %+v, want %+v", s.Counters, b.Counters)
		}
		var open []twinex.Order
		for _, o := range b.Orders {
			if o.Status.Open() {
				open = append(open, o)
			}
		}
		slices.SortFunc(open, func(x, y twinex.Order) int { return cmp.Compare(x.Seq, y.Seq) })
		equal(t, "open orders", s.OpenOrders, open)
		equal(t, "balances", sorted(s.Balances, cmpBalance), sorted(b.Balances, cmpBalance))
		equal(t, "supply", sorted(s.Supply, cmpSupply), sorted(b.Supply, cmpSupply))
		equal(t, "fee rates", sorted(s.FeeRates, cmpFees), sorted(b.FeeRates, cmpFees))
		if !reflect.DeepEqual(s.Meta, b.Meta) {
			t.Errorf("meta = %q, want %q", s.Meta, b.Meta)
		}
		for _, want := range b.Orders {
			got, err := h.s.Order(context.Background(), want.ID)
			if err != nil || got != want {
				t.Errorf("Order(%d) = %+v, %v\nwant %+v", want.ID, got, err, want)
			}
		}
		trades := h.trades(twinex.TradeQuery{AccountID: 500, Limit: 100})
		equal(t, "trades", trades, sorted(b.Trades, func(x, y twinex.Trade) int { return cmp.Compare(y.ID, x.ID) }))
		transfers := h.transfers(twinex.TransferQuery{AccountID: 600, Limit: 100})
		equal(t, "transfers", transfers, sorted(b.Transfers, func(x, y twinex.Transfer) int { return cmp.Compare(y.ID, x.ID) }))
		candles := h.candles(twinex.CandleQuery{Market: "ethusd", Timeframe: "1m", Since: math.MinInt64, Limit: 100})
		equal(t, "candles", candles, sorted(b.Candles, func(x, y twinex.Candle) int { return cmp.Compare(y.Start, x.Start) }))
	}
	check(t)
	h.reopen()
	t.Run("AfterReopen", check)
}

func dedupe[T any](xs []T, key func(T) string) []T {
	seen := map[string]bool{}
	var out []T
	for _, x := range xs {
		if k := key(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}

func sorted[T any](xs []T, c func(x, y T) int) []T {
	xs = slices.Clone(xs)
	slices.SortFunc(xs, c)
	return xs
}

func cmpBalance(x, y twinex.Balance) int {
	return cmp.Or(cmp.Compare(x.AccountID, y.AccountID), cmp.Compare(x.Currency, y.Currency))
}
func cmpSupply(x, y twinex.Supply) int    { return cmp.Compare(x.Currency, y.Currency) }
func cmpFees(x, y twinex.AccountFees) int { return cmp.Compare(x.AccountID, y.AccountID) }

func testOrderUpsert(t *testing.T, h *harness) {
	o := order(7, 100)
	h.commit(&twinex.Batch{Orders: []twinex.Order{o}})
	o.Filled, o.FilledNotional, o.Fees, o.Held = 4, 400, 2, 600
	o.Status, o.CancelReason, o.Updated = twinex.StatusCancelled, twinex.ReasonRequested, o.Updated+1
	h.commit(&twinex.Batch{Orders: []twinex.Order{o}})
	got, err := h.s.Order(context.Background(), 7)
	if err != nil || got != o {
		t.Errorf("Order(7) = %+v, %v\nwant %+v", got, err, o)
	}
	if s := h.state(); len(s.OpenOrders) != 0 {
		t.Errorf("cancelled order still open: %+v", s.OpenOrders)
	}
	if os := h.orders(twinex.OrderQuery{AccountID: 100}); len(os) != 1 || os[0] != o {
		t.Errorf("Orders = %+v, want just %+v", os, o)
	}
	// And back to open: latest state wins whatever it is.
	o.Status, o.Seq = twinex.StatusLive, 99
	h.commit(&twinex.Batch{Orders: []twinex.Order{o}})
	equal(t, "open orders", h.state().OpenOrders, []twinex.Order{o})
}

func testStateUpserts(t *testing.T, h *harness) {
	h.commit(&twinex.Batch{
		Balances: []twinex.Balance{{AccountID: 100, Currency: "usd", Total: 10, Held: 1}, {AccountID: 100, Currency: "btc", Total: 5}},
		Supply:   []twinex.Supply{{Currency: "usd", Net: 10}, {Currency: "btc", Net: 5}},
		FeeRates: []twinex.AccountFees{{AccountID: 100, FeeRates: twinex.DefaultFeeRates}},
		Candles:  []twinex.Candle{{Market: "btcusd", Timeframe: "1m", Start: 60e9, Open: 1, High: 2, Low: 1, Close: 2, Volume: 3, QuoteVolume: 4}},
	})
	h.commit(&twinex.Batch{
		Balances: []twinex.Balance{{AccountID: 100, Currency: "usd", Total: 20, Held: 0}, {AccountID: 101, Currency: "usd", Total: 1}},
		Supply:   []twinex.Supply{{Currency: "usd", Net: 21}},
		FeeRates: []twinex.AccountFees{{AccountID: 100, FeeRates: twinex.FeeRates{MakerBps: 0, TakerBps: 5}}},
		Candles:  []twinex.Candle{{Market: "btcusd", Timeframe: "1m", Start: 60e9, Open: 1, High: 3, Low: 0, Close: 0, Volume: 5, QuoteVolume: 6}},
	})
	s := h.state()
	equal(t, "balances", sorted(s.Balances, cmpBalance), []twinex.Balance{
		{AccountID: 100, Currency: "btc", Total: 5}, {AccountID: 100, Currency: "usd", Total: 20},
		{AccountID: 101, Currency: "usd", Total: 1},
	})
	equal(t, "supply", sorted(s.Supply, cmpSupply), []twinex.Supply{{Currency: "btc", Net: 5}, {Currency: "usd", Net: 21}})
	equal(t, "fee rates", s.FeeRates, []twinex.AccountFees{{AccountID: 100, FeeRates: twinex.FeeRates{TakerBps: 5}}})
	equal(t, "candles", h.candles(twinex.CandleQuery{Market: "btcusd", Timeframe: "1m"}),
		[]twinex.Candle{{Market: "btcusd", Timeframe: "1m", Start: 60e9, Open: 1, High: 3, Low: 0, Close: 0, Volume: 5, QuoteVolume: 6}})
}

func testOpenOrders(t *testing.T, h *harness) {
	// Seq order is not id order: a triggered stop order gets a later Seq.
	var b twinex.Batch
	seqs := []int64{50, 10, 40, 20, 30, 60, 5}
	statuses := []twinex.OrderStatus{twinex.StatusLive, twinex.StatusPending, twinex.StatusFilled,
		twinex.StatusLive, twinex.StatusCancelled, twinex.StatusPending, twinex.StatusLive}
	for i, seq := range seqs {
		o := order(int64(i+1), 100)
		o.Seq, o.Status = seq, statuses[i]
		b.Orders = append(b.Orders, o)
	}
	h.commit(&b)
	got := h.state().OpenOrders
	if want := []int64{7, 2, 4, 1, 6}; !slices.Equal(orderIDs(got), want) {
		t.Errorf("open order ids = %v, want %v (Seq order, no closed ones)", orderIDs(got), want)
	}
	// Filling one closes it for recovery.
	o := b.Orders[0]
	o.Status = twinex.StatusFilled
	h.commit(&twinex.Batch{Orders: []twinex.Order{o}})
	if want := []int64{7, 2, 4, 6}; !slices.Equal(orderIDs(h.state().OpenOrders), want) {
		t.Errorf("open order ids = %v, want %v", orderIDs(h.state().OpenOrders), want)
	}
}

func testCounters(t *testing.T, h *harness) {
	c := twinex.Counters{OrderID: 10, TradeID: 20, TransferID: 30, Seq: 40, Time: 50}
	h.commit(&twinex.Batch{Counters: c})
	if got := h.state().Counters; got != c {
		t.Errorf("counters = %+v, want %+v", got, c)
	}
	c = twinex.Counters{OrderID: 11, TradeID: 21, TransferID: 31, Seq: 41, Time: 51}
	h.commit(&twinex.Batch{Orders: []twinex.Order{order(11, 100)}, Counters: c})
	// A batch that leaves the counters unset (zero) must not rewind them.
	h.commit(&twinex.Batch{Meta: map[string]string{"k": "v"}})
	if got := h.state().Counters; got != c {
		t.Errorf("counters = %+v, want %+v", got, c)
	}
	h.reopen()
	if got := h.state().Counters; got != c {
		t.Errorf("after reopen counters = %+v, want %+v", got, c)
	}
}

func testMeta(t *testing.T, h *harness) {
	h.commit(&twinex.Batch{Meta: map[string]string{"a": "1", "b": "2"}})
	h.commit(&twinex.Batch{Meta: map[string]string{"b": "3", "c": ""}})
	want := map[string]string{"a": "1", "b": "3", "c": ""}
	if got := h.state().Meta; !reflect.DeepEqual(got, want) {
		t.Errorf("meta = %q, want %q", got, want)
	}
}

func testOrderNotFound(t *testing.T, h *harness) {
	h.commit(&twinex.Batch{Orders: []twinex.Order{order(1, 100)}})
	_, err := h.s.Order(context.Background(), 2)
	if !errors.Is(err, twinex.ErrNotFound) {
		t.Errorf("Order(missing) error = %v, want ErrNotFound", err)
	}
}

func testOrders(t *testing.T, h *harness) {
	var b twinex.Batch
	// Account 100: orders 1..12; odd ones on ethusd; every third closed.
	for id := int64(1); id <= 12; id++ {
		o := order(id, 100)
		if id%2 == 1 {
			o.Market = "ethusd"
		}
		switch id % 3 {
		case 0:
			o.Status = twinex.StatusFilled
		case 1:
			if id > 6 {
				o.Status = twinex.StatusCancelled
			}
		}
		b.Orders = append(b.Orders, o)
	}
	other := order(13, 101)
	other.ClientOrderID = "c5" // same client id, other account
	b.Orders = append(b.Orders, other)
	h.commit(&b)

	for _, tc := range []struct {
		name string
		q    twinex.OrderQuery
		want []int64
	}{
		{"Account", twinex.OrderQuery{AccountID: 100}, []int64{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"OtherAccount", twinex.OrderQuery{AccountID: 101}, []int64{13}},
		{"NoAccount", twinex.OrderQuery{AccountID: 999}, nil},
		{"Market", twinex.OrderQuery{AccountID: 100, Market: "ethusd"}, []int64{11, 9, 7, 5, 3, 1}},
		{"ClientOrderID", twinex.OrderQuery{AccountID: 100, ClientOrderID: "c5"}, []int64{5}},
		{"ClientOrderIDOtherMarket", twinex.OrderQuery{AccountID: 100, ClientOrderID: "c5", Market: "btcusd"}, nil},
		{"ClosedOnly", twinex.OrderQuery{AccountID: 100, ClosedOnly: true}, []int64{12, 10, 9, 7, 6, 3}},
		{"After", twinex.OrderQuery{AccountID: 100, After: 9000}, []int64{12, 11, 10}}, // strictly after
		{"Limit", twinex.OrderQuery{AccountID: 100, Limit: 3}, []int64{12, 11, 10}},
		{"All", twinex.OrderQuery{AccountID: 100, Market: "ethusd", ClosedOnly: true, After: 3000, Limit: 1}, []int64{9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := h.orders(tc.q)
			if !slices.Equal(orderIDs(got), tc.want) {
				t.Errorf("ids = %v, want %v", orderIDs(got), tc.want)
			}
		})
	}
}

func testTrades(t *testing.T, h *harness) {
	var b twinex.Batch
	// Account 100 is maker of even trades, taker of those divisible by 3;
	// order 7 is maker in trades 1-4 and taker in 9.
	for id := int64(1); id <= 12; id++ {
		tr := trade(id)
		tr.MakerAccount, tr.TakerAccount = 200, 201
		if id%2 == 0 {
			tr.MakerAccount = 100
		}
		if id%3 == 0 {
			tr.TakerAccount = 100
		}
		tr.MakerOrderID, tr.TakerOrderID = 1000+id, 2000+id
		if id <= 4 {
			tr.MakerOrderID = 7
		}
		if id == 9 {
			tr.TakerOrderID = 7
		}
		if id > 8 {
			tr.Market = "ethusd"
		}
		b.Trades = append(b.Trades, tr)
	}
	h.commit(&b)
	for _, tc := range []struct {
		name string
		q    twinex.TradeQuery
		want []int64
	}{
		{"All", twinex.TradeQuery{}, []int64{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"Market", twinex.TradeQuery{Market: "ethusd"}, []int64{12, 11, 10, 9}},
		{"Account", twinex.TradeQuery{AccountID: 100}, []int64{12, 10, 9, 8, 6, 4, 3, 2}},
		{"AccountLimit", twinex.TradeQuery{AccountID: 100, Limit: 3}, []int64{12, 10, 9}},
		{"AccountMarket", twinex.TradeQuery{AccountID: 100, Market: "btcusd"}, []int64{8, 6, 4, 3, 2}},
		{"Order", twinex.TradeQuery{OrderID: 7}, []int64{9, 4, 3, 2, 1}},
		{"OrderLimit", twinex.TradeQuery{OrderID: 7, Limit: 2}, []int64{9, 4}},
		{"AccountOrder", twinex.TradeQuery{AccountID: 100, OrderID: 7}, []int64{9, 4, 3, 2}},
		{"After", twinex.TradeQuery{After: 10000}, []int64{12, 11, 10}}, // at or after
		{"AfterID", twinex.TradeQuery{AfterID: 10}, []int64{12, 11}},
		{"AccountAfterID", twinex.TradeQuery{AccountID: 100, AfterID: 3, After: 1}, []int64{12, 10, 9, 8, 6, 4}},
		{"Limit", twinex.TradeQuery{Limit: 2}, []int64{12, 11}},
		{"None", twinex.TradeQuery{AccountID: 999}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := h.trades(tc.q)
			if !slices.Equal(tradeIDs(got), tc.want) {
				t.Errorf("ids = %v, want %v", tradeIDs(got), tc.want)
			}
		})
	}
	t.Run("SelfTradeOnce", func(t *testing.T) {
		tr := trade(13)
		tr.MakerAccount, tr.TakerAccount = 300, 300
		h.commit(&twinex.Batch{Trades: []twinex.Trade{tr}})
		equal(t, "trades", h.trades(twinex.TradeQuery{AccountID: 300}), []twinex.Trade{tr})
	})
}

func testTransfers(t *testing.T, h *harness) {
	var b twinex.Batch
	for id := int64(1); id <= 8; id++ {
		tr := transfer(id, 100)
		if id%2 == 0 {
			tr.Currency = "btc"
		}
		if id == 8 {
			tr.AccountID = 101
		}
		b.Transfers = append(b.Transfers, tr)
	}
	h.commit(&b)
	for _, tc := range []struct {
		name string
		q    twinex.TransferQuery
		want []int64
	}{
		{"Account", twinex.TransferQuery{AccountID: 100}, []int64{7, 6, 5, 4, 3, 2, 1}},
		{"Currency", twinex.TransferQuery{AccountID: 100, Currency: "btc"}, []int64{6, 4, 2}},
		{"After", twinex.TransferQuery{AccountID: 100, After: 5000}, []int64{7, 6, 5}}, // at or after
		{"Limit", twinex.TransferQuery{AccountID: 100, Currency: "usd", Limit: 2}, []int64{7, 5}},
		{"Other", twinex.TransferQuery{AccountID: 101}, []int64{8}},
		{"None", twinex.TransferQuery{AccountID: 999}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := h.transfers(tc.q)
			if !slices.Equal(transferIDs(got), tc.want) {
				t.Errorf("ids = %v, want %v", transferIDs(got), tc.want)
			}
		})
	}
}

func testCandles(t *testing.T, h *harness) {
	var b twinex.Batch
	const m = int64(60e9)
	for i := int64(1); i <= 5; i++ {
		for _, tf := range []string{"1m", "5m"} {
			for _, market := range []string{"btcusd", "ethusd"} {
				b.Candles = append(b.Candles, twinex.Candle{Market: market, Timeframe: tf, Start: i * m, Open: i, High: i, Low: i, Close: i, Volume: i})
			}
		}
	}
	h.commit(&b)
	for _, tc := range []struct {
		name string
		q    twinex.CandleQuery
		want []int64
	}{
		{"All", twinex.CandleQuery{Market: "btcusd", Timeframe: "1m"}, []int64{5 * m, 4 * m, 3 * m, 2 * m, m}},
		{"Since", twinex.CandleQuery{Market: "ethusd", Timeframe: "5m", Since: 3 * m}, []int64{5 * m, 4 * m, 3 * m}},
		{"Limit", twinex.CandleQuery{Market: "btcusd", Timeframe: "5m", Limit: 2}, []int64{5 * m, 4 * m}},
		{"OtherTimeframe", twinex.CandleQuery{Market: "btcusd", Timeframe: "1hr"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := h.candles(tc.q)
			if !slices.Equal(candleStarts(got), tc.want) {
				t.Errorf("starts = %v, want %v", candleStarts(got), tc.want)
			}
			for _, c := range got {
				if c.Market != tc.q.Market || c.Timeframe != tc.q.Timeframe {
					t.Errorf("candle %+v doesn't match %+v", c, tc.q)
				}
			}
		})
	}
}

// testLimits checks the default limits and the 10000 cap every query has.
func testLimits(t *testing.T, h *harness) {
	const n = 10001
	var b twinex.Batch
	for i := int64(1); i <= n; i++ {
		b.Orders = append(b.Orders, order(i, 100))
		b.Trades = append(b.Trades, trade(i))
		b.Transfers = append(b.Transfers, transfer(i, 100))
		b.Candles = append(b.Candles, twinex.Candle{Market: "btcusd", Timeframe: "1m", Start: i * 60e9})
	}
	h.commit(&b)
	for _, tc := range []struct {
		name       string
		def, huge  int
		wantDef    int
		wantCapped int
	}{
		{"Orders", len(h.orders(twinex.OrderQuery{AccountID: 100})), len(h.orders(twinex.OrderQuery{AccountID: 100, Limit: 1 << 30})), 50, 10000},
		{"Trades", len(h.trades(twinex.TradeQuery{})), len(h.trades(twinex.TradeQuery{Limit: 1 << 30})), 50, 10000},
		{"TradesAccount", len(h.trades(twinex.TradeQuery{AccountID: 100})), len(h.trades(twinex.TradeQuery{AccountID: 100, Limit: 1 << 30})), 50, 10000},
		{"Transfers", len(h.transfers(twinex.TransferQuery{AccountID: 100})), len(h.transfers(twinex.TransferQuery{AccountID: 100, Limit: 1 << 30})), 10, 10000},
		{"Candles", len(h.candles(twinex.CandleQuery{Market: "btcusd", Timeframe: "1m"})), len(h.candles(twinex.CandleQuery{Market: "btcusd", Timeframe: "1m", Limit: 1 << 30})), 1000, 10000},
	} {
		if tc.def != tc.wantDef || tc.huge != tc.wantCapped {
			t.Errorf("%s: default limit gave %d rows, want %d; huge limit gave %d, want %d",
				tc.name, tc.def, tc.wantDef, tc.huge, tc.wantCapped)
		}
	}
	if got := h.orders(twinex.OrderQuery{AccountID: 100, Limit: -1}); len(got) != 50 {
		t.Errorf("negative limit gave %d orders, want the default 50", len(got))
	}
}

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
		Balances:  []twinex.Balance{{AccountID: 100, Currency: "usd", Total: 10}},
		Transfers: []twinex.Transfer{transfer(1, 100)},
		Supply:    []twinex.Supply{{Currency: "usd", Net: 10}},
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
		Balances:  []twinex.Balance{{AccountID: 100, Currency: "usd", Total: 20}, {AccountID: 101, Currency: "usd", Total: 1}},
		Transfers: []twinex.Transfer{transfer(2, 100)},
		Supply:    []twinex.Supply{{Currency: "usd", Net: 21}},
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

// testAscending: with Ascending, trades and transfers come oldest first,
// so a reader can page forward from an id or a time without gaps.
func testAscending(t *testing.T, h *harness) {
	b := &twinex.Batch{}
	for i := int64(1); i <= 6; i++ {
		b.Trades = append(b.Trades, twinex.Trade{ID: i, Market: "btcusd", Price: 1, Amount: 1, TakerSide: twinex.Buy,
			MakerAccount: 100, TakerAccount: 101 + i%2, MakerOrderID: i, TakerOrderID: 100 + i, Time: i * 10})
		b.Transfers = append(b.Transfers, twinex.Transfer{ID: i, Kind: twinex.Deposit, AccountID: 100, Currency: "USD", Amount: i, Time: i * 10})
	}
	h.commit(b)
	ids := func(ts []twinex.Trade) []int64 {
		var out []int64
		for _, x := range ts {
			out = append(out, x.ID)
		}
		return out
	}
	if got := ids(h.trades(twinex.TradeQuery{AfterID: 2, Limit: 2, Ascending: true})); !slices.Equal(got, []int64{3, 4}) {
		t.Errorf("trades after id 2, ascending: %v", got)
	}
	if got := ids(h.trades(twinex.TradeQuery{AccountID: 100, After: 30, Limit: 3, Ascending: true})); !slices.Equal(got, []int64{3, 4, 5}) {
		t.Errorf("account trades from time 30, ascending: %v", got)
	}
	if got := ids(h.trades(twinex.TradeQuery{AccountID: 102, Ascending: true})); !slices.Equal(got, []int64{1, 3, 5}) {
		t.Errorf("taker trades, ascending: %v", got)
	}
	var tids []int64
	for _, x := range h.transfers(twinex.TransferQuery{AccountID: 100, AfterID: 4, Ascending: true}) {
		tids = append(tids, x.ID)
	}
	if !slices.Equal(tids, []int64{5, 6}) {
		t.Errorf("transfers after id 4, ascending: %v", tids)
	}
	tids = nil
	for _, x := range h.transfers(twinex.TransferQuery{AccountID: 100, AfterID: 4}) {
		tids = append(tids, x.ID)
	}
	if !slices.Equal(tids, []int64{6, 5}) {
		t.Errorf("transfers after id 4, newest first: %v", tids)
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
		Balances: []twinex.Balance{{AccountID: 100, Currency: "USD", Total: 10}},
		Trades:   []twinex.Trade{{ID: 1, Market: "btcusd", Price: 1, Amount: 1, Time: 1}},
		KeyUses:  []twinex.KeyUse{},
		Counters: twinex.Counters{OrderID: 2}, JournalSeq: 1,
	}
	o1 := order(1, 100)
	o1.Status, o1.Filled, o1.Held = twinex.StatusFilled, o1.Amount, 0
	b := &twinex.Batch{
		Orders:   []twinex.Order{o1},
		Balances: []twinex.Balance{{AccountID: 100, Currency: "USD", Total: 7}, {AccountID: 101, Currency: "USD", Total: 3}},
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
	if len(st.OpenOrders) != 1 || st.OpenOrders[0].ID != 2 || len(st.Balances) != 2 || st.Balances[0].Total != 7 || st.JournalSeq != 2 {
		t.Fatalf("state after the merged batch: %+v", st)
	}
}
