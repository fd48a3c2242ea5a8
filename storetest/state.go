package storetest

// The contract's exchange state: what Load returns after Commit (balances,
// open orders, supplies, fee rates, counters, meta), kept exactly.

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/twinex/twinex"
)

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

// wide returns one of the Int128 values every wide column (balances,
// holds, supplies) must keep exactly: int64's edges and well beyond them.
func wide(i int) twinex.Int128 {
	mustParse := func(s string) twinex.Int128 {
		v, err := twinex.ParseInt128(s)
		if err != nil {
			panic(err)
		}
		return v
	}
	wides := [...]twinex.Int128{
		twinex.I128(0), twinex.I128(1), twinex.I128(-1), twinex.I128(math.MaxInt64), twinex.I128(math.MinInt64),
		mustParse("9223372036854775808"),                   // 2^63
		mustParse("18446744073709551616"),                  // 2^64
		mustParse("-18446744073709551617"),                 // -2^64-1
		mustParse("1000000000000000000000000000000000000"), // the ledger's MaxSupply, 10^36
		mustParse("10000000000000000000000"),               // $10^12 at USD's scale
		twinex.MaxInt128, twinex.MinInt128,
	}
	return wides[i%len(wides)]
}

// str returns one of the strings that trip careless escaping or encoding.
// (No NUL bytes: PostgreSQL text rejects them.)
func str(i int) string {
	strs := [...]string{"", "btcusd", "ünïcødé ✓ 比特币 🚀", "it's \"quoted\"; --", " spaced ", "a\nb\tc\\"}
	return strs[i%len(strs)]
}

func testRoundTrip(t *testing.T, h *harness) { // long: builds one batch that varies every field of every row, then reads each table back
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
			AccountID: big(i), Currency: str(i + 1), Total: wide(next()), Held: wide(next()),
		})
		b.Supply = append(b.Supply, twinex.Supply{Currency: fmt.Sprintf("%s/%d", str(i), i), Net: wide(next())})
		b.FeeRates = append(b.FeeRates, twinex.AccountFees{
			AccountID: int64(i) - 8, FeeRates: twinex.FeeRates{MakerBps: big(next()), TakerBps: big(next())},
		})
		b.Candles = append(b.Candles, twinex.Candle{
			Market: "ethusd", Timeframe: "1m", Start: big(i) / 2 * 2, // distinct starts
			Open: big(next()), High: big(next()), Low: big(next()), Close: big(next()),
			Volume: big(next()), QuoteVolume: wide(next()),
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

func cmpSupply(x, y twinex.Supply) int { return cmp.Compare(x.Currency, y.Currency) }

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

// testOrdersAnyOrder writes orders whose ids do not rise from batch to
// batch: a store may take the ids above its largest as new, but an order
// below it that it has never seen must still be written whole, beside the
// changes of orders it has.
func testOrdersAnyOrder(t *testing.T, h *harness) {
	o9 := order(9, 100)
	h.commit(&twinex.Batch{Orders: []twinex.Order{o9}})
	o3, o5 := order(3, 101), order(5, 100)
	o5.ClientOrderID = ""
	o9.Filled, o9.Status, o9.CancelReason, o9.Updated = 2, twinex.StatusCancelled, twinex.ReasonRequested, o9.Updated+1
	h.commit(&twinex.Batch{Orders: []twinex.Order{o9, o3, o5}})
	o3.Filled, o3.Updated = 1, o3.Updated+1
	h.commit(&twinex.Batch{Orders: []twinex.Order{o3, order(12, 101)}})
	for _, want := range []twinex.Order{o3, o5, o9, order(12, 101)} {
		if got, err := h.s.Order(context.Background(), want.ID); err != nil || got != want {
			t.Errorf("Order(%d) = %+v, %v\nwant %+v", want.ID, got, err, want)
		}
	}
	equal(t, "open orders", h.state().OpenOrders, []twinex.Order{o3, o5, order(12, 101)})
}

func testStateUpserts(t *testing.T, h *harness) {
	h.commit(&twinex.Batch{
		Balances: []twinex.Balance{{AccountID: 100, Currency: "usd", Total: twinex.I128(10), Held: twinex.I128(1)}, {AccountID: 100, Currency: "btc", Total: twinex.I128(5)}},
		Supply:   []twinex.Supply{{Currency: "usd", Net: twinex.I128(10)}, {Currency: "btc", Net: twinex.I128(5)}},
		FeeRates: []twinex.AccountFees{{AccountID: 100, FeeRates: twinex.DefaultFeeRates}},
		Candles:  []twinex.Candle{{Market: "btcusd", Timeframe: "1m", Start: 60e9, Open: 1, High: 2, Low: 1, Close: 2, Volume: 3, QuoteVolume: twinex.I128(4)}},
	})
	h.commit(&twinex.Batch{
		Balances: []twinex.Balance{{AccountID: 100, Currency: "usd", Total: twinex.I128(20), Held: twinex.I128(0)}, {AccountID: 101, Currency: "usd", Total: twinex.I128(1)}},
		Supply:   []twinex.Supply{{Currency: "usd", Net: twinex.I128(21)}},
		FeeRates: []twinex.AccountFees{{AccountID: 100, FeeRates: twinex.FeeRates{MakerBps: 0, TakerBps: 5}}},
		Candles:  []twinex.Candle{{Market: "btcusd", Timeframe: "1m", Start: 60e9, Open: 1, High: 3, Low: 0, Close: 0, Volume: 5, QuoteVolume: twinex.I128(6)}},
	})
	s := h.state()
	equal(t, "balances", sorted(s.Balances, cmpBalance), []twinex.Balance{
		{AccountID: 100, Currency: "btc", Total: twinex.I128(5)}, {AccountID: 100, Currency: "usd", Total: twinex.I128(20)},
		{AccountID: 101, Currency: "usd", Total: twinex.I128(1)},
	})
	equal(t, "supply", sorted(s.Supply, cmpSupply), []twinex.Supply{{Currency: "btc", Net: twinex.I128(5)}, {Currency: "usd", Net: twinex.I128(21)}})
	equal(t, "fee rates", s.FeeRates, []twinex.AccountFees{{AccountID: 100, FeeRates: twinex.FeeRates{TakerBps: 5}}})
	equal(t, "candles", h.candles(twinex.CandleQuery{Market: "btcusd", Timeframe: "1m"}),
		[]twinex.Candle{{Market: "btcusd", Timeframe: "1m", Start: 60e9, Open: 1, High: 3, Low: 0, Close: 0, Volume: 5, QuoteVolume: twinex.I128(6)}})
}

// testWideValues: balances, holds and supplies past int64 (one account
// holding more than $10^12, the exchange far more) round-trip exactly,
// through upserts that widen and narrow them, and across a reopen.
func testWideValues(t *testing.T, h *harness) {
	usd12, _ := twinex.ParseInt128("10000000000000000000000") // $10^12 at USD's scale of 10^-10
	big1 := usd12.Add64(math.MaxInt64)
	h.commit(&twinex.Batch{
		Balances: []twinex.Balance{{AccountID: 100, Currency: "USD", Total: twinex.I128(7), Held: twinex.I128(3)}},
		Supply:   []twinex.Supply{{Currency: "USD", Net: twinex.I128(7)}},
	})
	h.commit(&twinex.Batch{
		Balances: []twinex.Balance{
			{AccountID: 100, Currency: "USD", Total: big1, Held: twinex.I128(math.MaxInt64).Add64(1)},
			{AccountID: 101, Currency: "USD", Total: usd12, Held: usd12},
		},
		Supply: []twinex.Supply{{Currency: "USD", Net: big1.Add(usd12)}},
	})
	want := []twinex.Balance{
		{AccountID: 100, Currency: "USD", Total: big1, Held: twinex.I128(math.MaxInt64).Add64(1)},
		{AccountID: 101, Currency: "USD", Total: usd12, Held: usd12},
	}
	for range 2 {
		s := h.state()
		equal(t, "wide balances", sorted(s.Balances, cmpBalance), want)
		equal(t, "wide supply", s.Supply, []twinex.Supply{{Currency: "USD", Net: big1.Add(usd12)}})
		h.reopen()
	}
	// And back within int64.
	h.commit(&twinex.Batch{
		Balances: []twinex.Balance{{AccountID: 101, Currency: "USD", Total: twinex.I128(-5)}},
		Supply:   []twinex.Supply{{Currency: "USD", Net: twinex.I128(0)}},
	})
	s := h.state()
	equal(t, "narrowed balance", sorted(s.Balances, cmpBalance)[1:], []twinex.Balance{{AccountID: 101, Currency: "USD", Total: twinex.I128(-5)}})
	equal(t, "narrowed supply", s.Supply, []twinex.Supply{{Currency: "USD", Net: twinex.I128(0)}})
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

// testManyOpenOrders: enough open orders that a store may read them in
// parts at once (the SQLite store does from 20,000): all of them, once
// each, in Seq order, closed ones left out.
func testManyOpenOrders(t *testing.T, h *harness) {
	const n = 25_001
	var b twinex.Batch
	var want []int64
	for i := range n {
		id := int64(i + 1)
		o := order(id, 100+id%7)
		// Seq order is not id order; every fifth order is closed.
		o.Seq = int64(n - i)
		if i%5 == 0 {
			o.Status = twinex.StatusFilled
		} else {
			want = append(want, id)
		}
		b.Orders = append(b.Orders, o)
	}
	b.Counters = twinex.Counters{OrderID: n, Seq: n, Time: 99}
	b.JournalSeq = 3
	h.commit(&b)
	slices.Reverse(want)
	for range 2 { // and again after reopening
		st := h.state()
		if got := orderIDs(st.OpenOrders); !slices.Equal(got, want) {
			t.Fatalf("%d open orders read, want %d, in Seq order", len(got), len(want))
		}
		if o := st.OpenOrders[len(want)/2]; o != b.Orders[o.ID-1] {
			t.Fatalf("open order read back as %+v, written %+v", o, b.Orders[o.ID-1])
		}
		h.reopen()
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
