package storetest

// The contract's history queries: orders, trades, transfers and candles,
// their filters, order and limits.

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/twinex/twinex"
)

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
