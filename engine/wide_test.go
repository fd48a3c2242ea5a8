package engine

import (
	"math/big"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/ledger"
)

// Balances are wide (twinex.Int128): the exchange holds far more than the
// int64 count of ledger units that once capped USD near $461M in total, and
// one account may hold more than $10^12. Every command runs Check.

// maxDeposit is the largest single deposit: one int64 of ledger units.
const maxDeposit = 1<<63 - 1

// bigUnits parses a decimal into a count of 10^-scale units, for expected
// values computed independently of Int128.
func bigUnits(t *testing.T, s string, scale int) *big.Int {
	t.Helper()
	v, err := twinex.ParseUnits128(s, scale)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	b, ok := new(big.Int).SetString(v.String(), 10)
	if !ok {
		t.Fatalf("%q", s)
	}
	return b
}

// wantWide checks an account's total and held balance against math/big.
func (h *harness) wantWide(acct int64, cur string, total, held *big.Int) {
	h.t.Helper()
	c := h.x.ledger.CurrencyIndex(cur)
	b := h.x.ledger.Account(acct).Balances[c]
	if b.Total.String() != total.String() || b.Held.String() != held.String() {
		h.t.Fatalf("account %d %s: total %v held %v, want total %v held %v", acct, cur, b.Total, b.Held, total, held)
	}
}

func TestWideBalancesTrade(t *testing.T) {
	h := newHarness(t)
	const whale, fund, seller = int64(501), int64(502), int64(503)
	usd := h.ms.Currency("USD")
	m := h.ms.Market("btcusd")

	// Past $10^12 in one account, by 1,100 deposits of the largest single
	// amount; and past $3*10^12 held by the exchange in all.
	deposits := 1100
	for i := 0; i < deposits; i++ {
		for _, a := range []int64{whale, fund, fund} {
			if r := h.apply(Command{Kind: DepositFunds, AccountID: a, Currency: "USD", Funds: maxDeposit}); r.Err != nil {
				t.Fatalf("deposit %d: %v", i, r.Err)
			}
		}
	}
	one := new(big.Int).Mul(big.NewInt(maxDeposit), big.NewInt(int64(deposits)))
	h.wantWide(whale, "USD", one, new(big.Int))
	h.wantWide(fund, "USD", new(big.Int).Mul(one, big.NewInt(2)), new(big.Int))
	if got := h.x.ledger.Account(whale).Balances[h.x.ledger.CurrencyIndex("USD")].Total.FormatUnits(usd.Scale); got != "1014570924054.02533877" {
		t.Fatalf("whale holds %s USD", got)
	}
	if s := h.x.ledger.Supply(h.x.ledger.CurrencyIndex("USD")); s.String() != new(big.Int).Mul(one, big.NewInt(3)).String() {
		t.Fatalf("USD supply %v", s)
	}

	// Five resting buys of $450M each hold $2.25B, more than an int64 of
	// USD ledger units, from one account.
	var bids []twinex.Order
	for i := 0; i < 5; i++ {
		bids = append(bids, h.place(ord{acct: whale, sym: "btcusd", side: twinex.Buy, price: "50000", amount: "9000"}))
	}
	heldOne := bigUnits(t, "450000000", usd.Scale)
	heldOne.Add(heldOne, big.NewInt(ledger.FeeCeil(m.Notional(bids[0].Price, bids[0].Amount), twinex.DefaultFeeRates.TakerBps)))
	h.wantWide(whale, "USD", one, new(big.Int).Mul(heldOne, big.NewInt(5)))

	// A sell far below the bids would fill all five at their price, for
	// $2.25B; one order's filled value is bounded like its placed value,
	// so it fills one bid and its remainder is cancelled, naming the limit
	// by its reason.
	h.deposit(seller, "BTC", "50000")
	h.out.Reset()
	o := h.place(ord{acct: seller, sym: "btcusd", side: twinex.Sell, price: "1000", amount: "45000"})
	if o.Status != twinex.StatusCancelled || o.CancelReason != twinex.ReasonOrderValueLimit || o.Filled != bids[0].Amount {
		t.Fatalf("the sweeping sell: %+v", o)
	}
	// The same with fill-or-kill: it could not fill within the limit, so
	// it does not trade at all.
	o = h.place(ord{acct: seller, sym: "btcusd", side: twinex.Sell, price: "1000", amount: "18000", opt: twinex.FillOrKill})
	if o.Status != twinex.StatusCancelled || o.CancelReason != twinex.ReasonFillOrKillWouldNotFill || o.Filled != 0 {
		t.Fatalf("the fill-or-kill sell: %+v", o)
	}
	// Sells within the limit fill the rest, one bid each.
	for i := 0; i < 4; i++ {
		o = h.place(ord{acct: seller, sym: "btcusd", side: twinex.Sell, price: "50000", amount: "9000"})
		if o.Status != twinex.StatusFilled {
			t.Fatalf("sell %d: %+v", i, o)
		}
	}

	// The whale paid 5 * ($450M + maker fee), exactly, and holds nothing
	// back; the seller got 5 * ($450M - taker fee).
	notional := bigUnits(t, "450000000", usd.Scale)
	makerFee := big.NewInt(ledger.Fee(notional.Int64(), twinex.DefaultFeeRates.MakerBps))
	takerFee := big.NewInt(ledger.Fee(notional.Int64(), twinex.DefaultFeeRates.TakerBps))
	paid := new(big.Int).Mul(new(big.Int).Add(notional, makerFee), big.NewInt(5))
	h.wantWide(whale, "USD", new(big.Int).Sub(one, paid), new(big.Int))
	h.wantWide(whale, "BTC", bigUnits(t, "45000", h.ms.Currency("BTC").Scale), new(big.Int))
	h.wantWide(seller, "USD", new(big.Int).Mul(new(big.Int).Sub(notional, takerFee), big.NewInt(5)), new(big.Int))
	h.wantWide(twinex.FeeAccountID, "USD", new(big.Int).Mul(new(big.Int).Add(makerFee, takerFee), big.NewInt(5)), new(big.Int))

	// Withdrawals and transfers of the largest single amount from a wide
	// balance are exact.
	if r := h.apply(Command{Kind: WithdrawFunds, AccountID: fund, Currency: "USD", Funds: maxDeposit, Fee: 1 << 62, Destination: "x"}); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := h.apply(Command{Kind: TransferFunds, AccountID: fund, ToAccount: whale, Currency: "USD", Funds: maxDeposit}); r.Err != nil {
		t.Fatal(r.Err)
	}
	left := new(big.Int).Mul(one, big.NewInt(2))
	left.Sub(left, big.NewInt(maxDeposit))
	left.Sub(left, big.NewInt(1<<62))
	left.Sub(left, big.NewInt(maxDeposit))
	h.wantWide(fund, "USD", left, new(big.Int))
}

func TestWideRefusalsNameTheLimit(t *testing.T) {
	h := newHarness(t)
	h.deposit(alice, "USD", "900000000")
	// One order's value is bounded: the message says by how much.
	r := h.apply(Command{Kind: Place, AccountID: alice, Market: h.ms.Index("btcusd"), Side: twinex.Buy, Type: twinex.Limit,
		Price: 5_000_000, Amount: 1_000_000_000_000}) // 10,000 BTC at 50,000.00: $500M
	if twinex.ErrorReason(r.Err) != twinex.InvalidQuantity || !strings.Contains(r.Err.Error(), "one order can be worth at most 461168601.8427387904 USD and move at most 46116860.18427387904 BTC") {
		t.Fatalf("order past the value limit: %v", r.Err)
	}

	// The supply of a currency is bounded by ledger.MaxSupply: a deposit
	// past it is refused with the limit in the currency's units. Reaching
	// it takes 10^17 deposits, so the state is restored as a store would
	// hold it.
	x := New(h.ms)
	near := ledger.MaxSupply().Sub64(5)
	st := &twinex.State{
		Balances: []twinex.Balance{{AccountID: alice, Currency: "USD", Total: near}},
		Supply:   []twinex.Supply{{Currency: "USD", Net: near}},
	}
	if err := x.Restore(st, nil); err != nil {
		t.Fatal(err)
	}
	var out Output
	res := x.Apply(&Command{Kind: DepositFunds, AccountID: bob, Currency: "USD", Funds: 6}, &out)
	if twinex.ErrorReason(res.Err) != twinex.InvalidQuantity || !strings.Contains(res.Err.Error(), "limit of 100000000000000000000000000 USD") {
		t.Fatalf("deposit past MaxSupply: %v", res.Err)
	}
	if res = x.Apply(&Command{Kind: DepositFunds, AccountID: bob, Currency: "USD", Funds: 5}, &out); res.Err != nil {
		t.Fatalf("deposit up to MaxSupply: %v", res.Err)
	}
	if err := x.Check(); err != nil {
		t.Fatal(err)
	}
	// At the limit, the balances still trade and transfer exactly.
	if res = x.Apply(&Command{Kind: TransferFunds, AccountID: alice, ToAccount: bob, Currency: "USD", Funds: maxDeposit}, &out); res.Err != nil {
		t.Fatal(res.Err)
	}
	if err := x.Check(); err != nil {
		t.Fatal(err)
	}
}

// The book keeps each price level's total in an int64 of amount units; an
// order whose remainder would take it past that is cancelled instead of
// resting, with a reason that says so. On the default markets that takes 92
// billion BTC at one price, so the test uses a market whose amount unit is
// its ledger unit.
func TestPriceLevelFull(t *testing.T) {
	ms, err := twinex.MarketConfig{
		Currencies: []twinex.Currency{{Code: "AAA", Scale: 0}, {Code: "QQQ", Scale: 0}},
		Markets:    []twinex.MarketConfigItem{{Symbol: "aaaqqq", Base: "AAA", Quote: "QQQ", PriceTick: "1", AmountStep: "1", MinOrderSize: "1"}},
	}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	x := New(ms)
	var out Output
	apply := func(c Command) Result {
		t.Helper()
		r := x.Apply(&c, &out)
		if err := x.Check(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i := 0; i < 2; i++ {
		if r := apply(Command{Kind: DepositFunds, AccountID: alice, Currency: "AAA", Funds: twinex.MaxOrderValue}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	sell := Command{Kind: Place, AccountID: alice, Side: twinex.Sell, Type: twinex.Limit, Price: 1, Amount: twinex.MaxOrderValue}
	if r := apply(sell); r.Err != nil || r.Order.Status != twinex.StatusLive {
		t.Fatalf("first sell: %+v", r)
	}
	r := apply(sell)
	if r.Err != nil || r.Order.Status != twinex.StatusCancelled || r.Order.CancelReason != twinex.ReasonPriceLevelFull {
		t.Fatalf("second sell at the same price: %+v", r)
	}
	// At another price it rests.
	sell.Price = 2
	sell.Amount = twinex.MaxOrderValue / 2
	if r := apply(sell); r.Err != nil || r.Order.Status != twinex.StatusLive {
		t.Fatalf("sell at another price: %+v", r)
	}
}
