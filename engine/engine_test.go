package engine

import (
	"testing"

	"github.com/twinex/twinex"
)

// harness drives an Exchange in table tests and checks its invariants when
// the test ends.
type harness struct {
	t   *testing.T
	x   *Exchange
	ms  *twinex.Markets
	out Output
	now int64
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ms := twinex.DefaultMarkets()
	h := &harness{t: t, x: New(ms), ms: ms, now: 1_700_000_000_000_000_000}
	t.Cleanup(func() {
		if err := h.x.Check(); err != nil {
			t.Errorf("invariants after the test: %v", err)
		}
	})
	return h
}

func (h *harness) apply(c Command) Result {
	h.t.Helper()
	h.now += 1000
	c.Time = h.now
	h.out.Reset()
	r := h.x.Apply(&c, &h.out)
	if err := h.x.Check(); err != nil {
		h.t.Fatalf("invariants after command %+v: %v", c, err)
	}
	return r
}

// units parses a decimal in a currency's ledger units.
func (h *harness) units(cur, s string) int64 {
	h.t.Helper()
	v, err := twinex.ParseUnits(s, h.ms.Currency(cur).Scale)
	if err != nil {
		h.t.Fatalf("units %q: %v", s, err)
	}
	return v
}

func (h *harness) deposit(acct int64, cur, amount string) {
	h.t.Helper()
	if r := h.apply(Command{Kind: DepositFunds, AccountID: acct, Currency: cur, Funds: h.units(cur, amount)}); r.Err != nil {
		h.t.Fatalf("deposit: %v", r.Err)
	}
}

type ord struct {
	acct     int64
	sym      string
	side     twinex.Side
	price    string
	amount   string
	opt      twinex.Option
	stop     string
	session  string
	wantFail string // expected reason
}

func (h *harness) place(o ord) twinex.Order {
	h.t.Helper()
	m := h.ms.Market(o.sym)
	c := Command{Kind: Place, AccountID: o.acct, Market: h.ms.Index(o.sym), Side: o.side, Type: twinex.Limit, Option: o.opt, Session: o.session}
	c.Price, _ = twinex.ParseUnits(o.price, m.PriceDecimals)
	c.Amount, _ = twinex.ParseUnits(o.amount, m.AmountDecimals)
	if o.stop != "" {
		c.Type = twinex.StopLimit
		c.StopPrice, _ = twinex.ParseUnits(o.stop, m.PriceDecimals)
	}
	r := h.apply(c)
	if got := twinex.ErrorReason(r.Err); got != o.wantFail {
		h.t.Fatalf("place %+v: reason %q, want %q (%v)", o, got, o.wantFail, r.Err)
	}
	return r.Order
}

func (h *harness) cancel(acct, id int64) Result {
	h.t.Helper()
	return h.apply(Command{Kind: Cancel, AccountID: acct, OrderID: id})
}

// bal checks an account's total and available balance of a currency.
func (h *harness) bal(acct int64, cur, total, avail string) {
	h.t.Helper()
	c := h.x.ledger.CurrencyIndex(cur)
	a := h.x.ledger.Account(acct)
	sc := h.ms.Currency(cur).Scale
	gotT, gotA := a.Balances[c].Total, a.Available(c)
	wantT, err1 := twinex.ParseUnits128(total, sc)
	wantA, err2 := twinex.ParseUnits128(avail, sc)
	if err1 != nil || err2 != nil {
		h.t.Fatalf("bal %q %q: %v %v", total, avail, err1, err2)
	}
	if gotT != wantT || gotA != wantA {
		h.t.Fatalf("account %d %s: total %s available %s, want %s and %s", acct, cur,
			gotT.FormatUnits(sc), gotA.FormatUnits(sc), total, avail)
	}
}

func (h *harness) kinds() []EventKind {
	var k []EventKind
	for _, e := range h.out.Events {
		k = append(k, e.Kind)
	}
	return k
}

func (h *harness) wantKinds(want ...EventKind) {
	h.t.Helper()
	got := h.kinds()
	if len(got) != len(want) {
		h.t.Fatalf("events %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			h.t.Fatalf("events %v, want %v", got, want)
		}
	}
}

const (
	alice = int64(100)
	bob   = int64(101)
	carol = int64(102)
)

func TestRestingOrderHoldsAndCancelReleases(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "USD", "10000")
	o := h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "20000.00", amount: "0.1"})
	h.wantKinds(EventAccepted, EventBooked)
	if o.Status != twinex.StatusLive || o.Seq == 0 {
		t.Fatalf("order %+v not live", o)
	}
	// 2000 USD plus the 35 bps taker fee reserve: 7 USD.
	h.bal(alice, "USD", "10000", "7993")
	r := h.cancel(alice, o.ID)
	h.wantKinds(EventCancelled, EventClosed)
	if r.Order.Status != twinex.StatusCancelled || r.Order.CancelReason != twinex.ReasonRequested || r.Order.Held != 0 {
		t.Fatalf("cancelled order %+v", r.Order)
	}
	h.bal(alice, "USD", "10000", "10000")
	// A second cancel finds no open order.
	if got := twinex.ErrorReason(h.cancel(alice, o.ID).Err); got != twinex.OrderNotFound {
		t.Fatalf("second cancel: %s", got)
	}
}

func TestFullFillSettlesBothSidesWithFees(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "1")
	h.deposit(bob, "USD", "100000")
	sell := h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "30000.00", amount: "0.5"})
	h.bal(alice, "BTC", "1", "0.5")
	buy := h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "30000.00", amount: "0.5"})
	h.wantKinds(EventAccepted, EventFill, EventFill, EventClosed, EventClosed)
	if buy.Status != twinex.StatusFilled || buy.Filled != buy.Amount || buy.Held != 0 {
		t.Fatalf("buy %+v", buy)
	}
	// Notional 15000 USD: the taker pays 35 bps (52.5), the maker 10 bps (15).
	h.bal(bob, "USD", "84947.5", "84947.5")
	h.bal(bob, "BTC", "0.5", "0.5")
	h.bal(alice, "USD", "14985", "14985")
	h.bal(alice, "BTC", "0.5", "0.5")
	h.bal(twinex.FeeAccountID, "USD", "67.5", "67.5")
	if len(h.out.Trades) != 1 {
		t.Fatalf("trades %+v", h.out.Trades)
	}
	tr := h.out.Trades[0]
	if tr.MakerOrderID != sell.ID || tr.TakerOrderID != buy.ID || tr.TakerSide != twinex.Buy || tr.ID != 1 {
		t.Fatalf("trade %+v", tr)
	}
	if got := twinex.ErrorReason(h.cancel(alice, sell.ID).Err); got != twinex.OrderNotFound {
		t.Fatalf("cancelling a filled order: %s, want OrderNotFound", got)
	}
}

func TestMultiLevelFillReleasesPriceImprovement(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "3")
	h.deposit(bob, "USD", "100000")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "100.00", amount: "1"})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "101.00", amount: "1"})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "103.00", amount: "1"})
	buy := h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "102.00", amount: "2.5"})
	if buy.Filled != 200000000 || buy.Status != twinex.StatusLive {
		t.Fatalf("buy %+v", buy)
	}
	// Paid 100 + 101 plus 35 bps taker fees (0.35 + 0.3535); the remaining
	// 0.5 at 102 holds 51 plus its 0.1785 fee reserve.
	h.bal(bob, "USD", "99798.2965", "99747.118")
	h.bal(bob, "BTC", "2", "2")
	bids, asks := h.x.Depth(0, nil, nil, 0)
	if len(bids) != 1 || bids[0].Price != 10200 || bids[0].Amount != 50000000 || len(asks) != 1 || asks[0].Price != 10300 {
		t.Fatalf("depth bids %+v asks %+v", bids, asks)
	}
}

func TestPartialFillOfMakerKeepsPriority(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "ETH", "10")
	h.deposit(carol, "ETH", "10")
	h.deposit(bob, "USD", "100000")
	first := h.place(ord{acct: alice, sym: "ethusd", side: twinex.Sell, price: "2000.00", amount: "2"})
	second := h.place(ord{acct: carol, sym: "ethusd", side: twinex.Sell, price: "2000.00", amount: "2"})
	h.place(ord{acct: bob, sym: "ethusd", side: twinex.Buy, price: "2000.00", amount: "1"})
	h.place(ord{acct: bob, sym: "ethusd", side: twinex.Buy, price: "2000.00", amount: "1.5"})
	// The first seller filled completely before the second traded at all.
	if o, ok := h.x.OpenOrder(first.ID); ok {
		t.Fatalf("first order still open: %+v", o)
	}
	o, ok := h.x.OpenOrder(second.ID)
	if !ok || o.Filled != 500000 {
		t.Fatalf("second order %+v", o)
	}
}

func TestFillOrKill(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "1")
	h.deposit(bob, "USD", "100000")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "100.00", amount: "0.4"})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "101.00", amount: "0.4"})
	o := h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "101.00", amount: "1", opt: twinex.FillOrKill})
	h.wantKinds(EventAccepted, EventCancelled, EventClosed)
	if o.CancelReason != twinex.ReasonFillOrKillWouldNotFill || o.Filled != 0 {
		t.Fatalf("fok %+v", o)
	}
	bids, asks := h.x.Depth(0, nil, nil, 0)
	if len(bids) != 0 || len(asks) != 2 {
		t.Fatalf("book touched: %v %v", bids, asks)
	}
	h.bal(bob, "USD", "100000", "100000")
	o = h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "101.00", amount: "0.8", opt: twinex.FillOrKill})
	if o.Status != twinex.StatusFilled {
		t.Fatalf("fok that can fill: %+v", o)
	}
}

func TestImmediateOrCancelCancelsRemainder(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "1")
	h.deposit(bob, "USD", "100000")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "100.00", amount: "0.4"})
	o := h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "1", opt: twinex.ImmediateOrCancel})
	h.wantKinds(EventAccepted, EventFill, EventFill, EventClosed, EventCancelled, EventClosed)
	if o.Status != twinex.StatusCancelled || o.Filled != 40000000 || o.CancelReason != twinex.ReasonImmediateOrCancelWouldPost {
		t.Fatalf("ioc %+v", o)
	}
	// 40 USD plus 0.14 fee spent; nothing left held.
	h.bal(bob, "USD", "99959.86", "99959.86")
}

func TestMakerOrCancel(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "1")
	h.deposit(bob, "USD", "100000")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "100.00", amount: "0.4"})
	o := h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "1", opt: twinex.MakerOrCancel})
	if o.CancelReason != twinex.ReasonMakerOrCancelWouldTake || o.Filled != 0 {
		t.Fatalf("moc that would take: %+v", o)
	}
	o = h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "99.99", amount: "1", opt: twinex.MakerOrCancel})
	if o.Status != twinex.StatusLive {
		t.Fatalf("moc that rests: %+v", o)
	}
}

func TestSelfTradePrevention(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "2")
	h.deposit(alice, "USD", "100000")
	h.deposit(bob, "BTC", "1")
	h.place(ord{acct: bob, sym: "btcusd", side: twinex.Sell, price: "100.00", amount: "0.5"})
	own := h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "100.00", amount: "1"})
	h.place(ord{acct: bob, sym: "btcusd", side: twinex.Sell, price: "100.00", amount: "0.5"})
	// Alice's buy trades with bob's first order, then reaches her own and
	// stops: its remainder is cancelled, her resting sell is untouched and
	// bob's second order behind it is not reached.
	o := h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "2"})
	if o.Filled != 50000000 || o.Status != twinex.StatusCancelled || o.CancelReason != twinex.ReasonSelfCrossPrevented {
		t.Fatalf("self-crossing buy %+v", o)
	}
	if r, ok := h.x.OpenOrder(own.ID); !ok || r.Filled != 0 {
		t.Fatalf("own resting order %+v", r)
	}
	// Fill-or-kill counts only liquidity ahead of the own order.
	o = h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "0.1", opt: twinex.FillOrKill})
	if o.CancelReason != twinex.ReasonFillOrKillWouldNotFill {
		t.Fatalf("fok behind own order %+v", o)
	}
	// Maker-or-cancel crossing only its own order would still take.
	o = h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "0.1", opt: twinex.MakerOrCancel})
	if o.CancelReason != twinex.ReasonMakerOrCancelWouldTake {
		t.Fatalf("moc against own order %+v", o)
	}
}

func TestStopLimitTriggers(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "5")
	h.deposit(bob, "USD", "100000")
	h.deposit(carol, "USD", "100000")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "100.00", amount: "1"})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "105.00", amount: "1"})
	stop := h.place(ord{acct: carol, sym: "btcusd", side: twinex.Buy, price: "106.00", stop: "104.00", amount: "1"})
	h.wantKinds(EventAccepted)
	if stop.Status != twinex.StatusPending || stop.Type != twinex.StopLimit {
		t.Fatalf("stop %+v", stop)
	}
	// Held like a limit order: 106 plus the fee reserve 0.371.
	h.bal(carol, "USD", "100000", "99893.629")
	// A trade at 100 does not reach the stop.
	h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "1"})
	if o, _ := h.x.OpenOrder(stop.ID); o.Status != twinex.StatusPending {
		t.Fatalf("stop triggered early: %+v", o)
	}
	// Bob lifts 105: the last price reaches 104, carol's stop enters the
	// book as a buy at 106 and rests (nothing left to buy).
	h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "105.00", amount: "0.5"})
	o, _ := h.x.OpenOrder(stop.ID)
	if o.Status != twinex.StatusLive || o.Filled != 50000000 {
		t.Fatalf("stop after trigger %+v (events %v)", o, h.kinds())
	}
}

func TestStopPriceRules(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "USD", "100000")
	h.deposit(alice, "BTC", "10")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", stop: "100.00", amount: "1", wantFail: twinex.InvalidStopPriceBuy})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "100.00", stop: "99.00", amount: "1", wantFail: twinex.InvalidStopPriceSell})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", stop: "40.00", amount: "1", wantFail: twinex.InvalidStopPriceRatio})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", stop: "90.001", amount: "1", wantFail: twinex.InvalidStopPrice})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", stop: "90.00", amount: "1", opt: twinex.ImmediateOrCancel, wantFail: twinex.UnsupportedOption})
}

func TestValidationChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "USD", "100")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "1", wantFail: twinex.InsufficientFunds})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "0", amount: "0.1", wantFail: twinex.InvalidPrice})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "10.00", amount: "0.000001", wantFail: twinex.InvalidQuantity})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "10.00", amount: "0", wantFail: twinex.InvalidQuantity})
	h.place(ord{acct: alice, sym: "btcusd", side: 9, price: "10.00", amount: "0.1", wantFail: twinex.InvalidSide})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "92233720368547758.07", amount: "92233720368.54775807", wantFail: twinex.InvalidQuantity})
	r := h.apply(Command{Kind: Place, AccountID: alice, Market: 99, Side: twinex.Buy, Type: twinex.Limit, Price: 1, Amount: 1})
	if twinex.ErrorReason(r.Err) != twinex.InvalidSymbol {
		t.Fatalf("unknown market: %v", r.Err)
	}
	if len(h.out.Events) != 0 || h.x.Counters().OrderID != 0 {
		t.Fatalf("rejected orders left events %v or consumed ids %+v", h.out.Events, h.x.Counters())
	}
	h.bal(alice, "USD", "100", "100")
}

func TestExactHoldAtBalance(t *testing.T) {
	h := newHarness(t)
	// 0.01 BTC at 10000.00 = 100 USD, plus a 35 bps reserve = 100.35 exactly.
	h.deposit(alice, "USD", "100.35")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "10000.00", amount: "0.01"})
	h.bal(alice, "USD", "100.35", "0")
	h.deposit(bob, "USD", "100.3499999999")
	h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "10000.00", amount: "0.01", wantFail: twinex.InsufficientFunds})
}

func TestDustFeesRoundDown(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "1")
	h.deposit(bob, "USD", "1000")
	// 0.00001 BTC at 0.01 USD: notional 1e-7 USD (1000 ledger units); the
	// taker's 35 bps is 3.5 units, rounded down to 3; the maker's 1 unit.
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "0.01", amount: "0.00001"})
	o := h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "0.01", amount: "0.00001"})
	if o.Status != twinex.StatusFilled || o.Fees != 3 {
		t.Fatalf("dust %+v", o)
	}
	h.bal(bob, "USD", "999.9999998997", "999.9999998997")
	h.bal(alice, "USD", "0.0000000999", "0.0000000999")
	h.bal(twinex.FeeAccountID, "USD", "0.0000000004", "0.0000000004")
}

func TestCancelAllAndSession(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "USD", "100000")
	a := h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "1", session: "k1"})
	b := h.place(ord{acct: alice, sym: "ethusd", side: twinex.Buy, price: "100.00", amount: "1", session: "k2"})
	c := h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "101.00", amount: "1", session: "k1", stop: "100.50"})
	r := h.apply(Command{Kind: CancelSession, AccountID: alice, Session: "k1"})
	if len(r.Cancelled) != 2 || r.Cancelled[0] != a.ID || r.Cancelled[1] != c.ID {
		t.Fatalf("session cancel %v", r.Cancelled)
	}
	r = h.apply(Command{Kind: CancelAll, AccountID: alice})
	if len(r.Cancelled) != 1 || r.Cancelled[0] != b.ID {
		t.Fatalf("cancel all %v", r.Cancelled)
	}
	h.bal(alice, "USD", "100000", "100000")
}

func TestFunding(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "USD", "100")
	r := h.apply(Command{Kind: WithdrawFunds, AccountID: alice, Currency: "USD", Funds: h.units("USD", "99"), Fee: h.units("USD", "2")})
	if twinex.ErrorReason(r.Err) != twinex.InsufficientFunds {
		t.Fatalf("overdraw: %v", r.Err)
	}
	r = h.apply(Command{Kind: WithdrawFunds, AccountID: alice, Currency: "USD", Funds: h.units("USD", "90"), Fee: h.units("USD", "1")})
	if r.Err != nil || len(r.Transfers) != 1 || r.Transfers[0].Kind != twinex.Withdrawal {
		t.Fatalf("withdraw: %+v", r)
	}
	h.bal(alice, "USD", "9", "9")
	h.bal(twinex.FeeAccountID, "USD", "1", "1")
	r = h.apply(Command{Kind: TransferFunds, AccountID: alice, ToAccount: bob, Currency: "USD", Funds: h.units("USD", "4")})
	if r.Err != nil || len(r.Transfers) != 2 {
		t.Fatalf("transfer: %+v", r)
	}
	h.bal(bob, "USD", "4", "4")
	for _, c := range []Command{
		{Kind: DepositFunds, AccountID: alice, Currency: "XYZ", Funds: 1},
		{Kind: DepositFunds, AccountID: alice, Currency: "USD", Funds: -1},
		{Kind: DepositFunds, AccountID: alice, Currency: "USD", Funds: 0},
		{Kind: TransferFunds, AccountID: alice, ToAccount: alice, Currency: "USD", Funds: 1},
	} {
		if r := h.apply(c); r.Err == nil {
			t.Fatalf("%+v accepted", c)
		}
	}
}

func TestFeeRatesAreCapturedAtPlacement(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "1")
	h.deposit(bob, "USD", "1000")
	buy := h.place(ord{acct: bob, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "1"})
	// Raising bob's fees after placement must not break his order's hold.
	if r := h.apply(Command{Kind: SetFees, AccountID: bob, Fees: twinex.FeeRates{MakerBps: 500, TakerBps: 900}}); r.Err != nil {
		t.Fatal(r.Err)
	}
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "100.00", amount: "1"})
	// Bob was maker at his captured 10 bps: 100 + 0.1.
	h.bal(bob, "USD", "899.9", "899.9")
	_ = buy
	if r := h.apply(Command{Kind: SetFees, AccountID: bob, Fees: twinex.FeeRates{MakerBps: -1}}); twinex.ErrorReason(r.Err) != twinex.InvalidQuantity {
		t.Fatalf("negative fee accepted: %v", r.Err)
	}
}

func TestIDsIncrease(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "USD", "100000")
	var last int64
	for i := 0; i < 5; i++ {
		o := h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "0.1"})
		if o.ID <= last {
			t.Fatalf("id %d after %d", o.ID, last)
		}
		last = o.ID
	}
}

func TestStopRatioDoesNotOverflow(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "BTC", "1")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "1000.00", stop: "92233720368547758.07", amount: "0.001", wantFail: twinex.InvalidStopPriceRatio})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "1000.00", stop: "1500.00", amount: "0.001"})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Sell, price: "1000.00", stop: "1500.01", amount: "0.001", wantFail: twinex.InvalidStopPriceRatio})
}

func TestRefusedCommandsLeaveNoAccounts(t *testing.T) {
	h := newHarness(t)
	for _, c := range []Command{
		{Kind: Place, AccountID: 555, Market: 0, Side: twinex.Buy, Type: twinex.Limit, Price: 100, Amount: 100000},
		{Kind: WithdrawFunds, AccountID: 556, Currency: "USD", Funds: 1},
		{Kind: TransferFunds, AccountID: 557, ToAccount: 558, Currency: "USD", Funds: 1},
		{Kind: DepositFunds, AccountID: 559, Currency: "USD", Funds: 0},
		{Kind: SetFees, AccountID: 560, Fees: twinex.FeeRates{MakerBps: -1}},
	} {
		if r := h.apply(c); r.Err == nil {
			t.Fatalf("%+v accepted", c)
		}
	}
	if n := h.x.Ledger().Len(); n != 0 {
		t.Fatalf("refused commands left %d accounts", n)
	}
}

func TestOpenSessions(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "USD", "100000")
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "0.1", session: "k2"})
	h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "0.1", session: "k1"})
	o := h.place(ord{acct: alice, sym: "btcusd", side: twinex.Buy, price: "100.00", amount: "0.1", session: "k3"})
	h.cancel(alice, o.ID)
	if got := h.x.OpenSessions(); len(got) != 2 || got[0] != "k1" || got[1] != "k2" {
		t.Fatalf("open sessions %v", got)
	}
}
