package exchange_test

import (
	"context"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/exchange"
	"github.com/twinex/twinex/sqlite"
)

// fixture is a service over a real store and core, with one user who has
// a primary account and a second one ("bots").
type fixture struct {
	t       *testing.T
	s       *exchange.Service
	user    int64
	primary twinex.Account
	bots    twinex.Account
}

func newFixture(t *testing.T, f *exchange.Faucet) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(t.TempDir() + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.Open(ctx, core.Config{Store: db, Markets: twinex.DefaultMarkets()})
	if err != nil {
		t.Fatal(err)
	}
	x := &fixture{t: t, s: &exchange.Service{Core: c, Store: db, Accounts: db, Faucet: f}}
	t.Cleanup(func() {
		var cerr error
		if err := c.Inspect(ctx, func(e *engine.Exchange) { cerr = e.Check() }); err != nil || cerr != nil {
			t.Errorf("ledger check: %v %v", err, cerr)
		}
		c.Close()
		db.Close()
	})
	u := twinex.User{Email: "ada@example.com", PasswordHash: "x", Created: 1}
	if x.primary, err = db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	x.user = u.ID
	x.bots = twinex.Account{UserID: u.ID, Name: "Bots", Nickname: "bots", Type: "exchange", Created: 2}
	if err := db.CreateAccount(ctx, &x.bots); err != nil {
		t.Fatal(err)
	}
	return x
}

func (x *fixture) balance(accountID int64, cur string) (total, held int64) {
	x.t.Helper()
	bals, err := x.s.Balances(context.Background(), accountID)
	if err != nil {
		x.t.Fatal(err)
	}
	for _, b := range bals {
		if b.Currency == cur {
			// The faucet's amounts fit an int64.
			total, _ = b.Total.Int64()
			held, _ = b.Held.Int64()
			return total, held
		}
	}
	return 0, 0
}

func TestWelcomeAndTopUpWithinTheLimit(t *testing.T) {
	ms := twinex.DefaultMarkets()
	f, err := exchange.NewFaucet(ms, map[string][2]string{"USD": {"100", "250"}, "BTC": {"1", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	x := newFixture(t, f)
	ctx := context.Background()
	if err := x.s.Welcome(ctx, x.primary.ID); err != nil {
		t.Fatal(err)
	}
	usd := ms.Currency("USD")
	unit := func(v string) int64 { n, _ := twinex.ParseUnits(v, usd.Scale); return n }
	if err := x.s.Welcome(ctx, x.primary.ID); err != nil { // a second verification link
		t.Fatal(err)
	}
	if got, _ := x.balance(x.primary.ID, "USD"); got != unit("100") {
		t.Fatalf("USD after welcome = %d, want 100 (once)", got)
	}
	// Top-ups add the grant until the cap, then a part, then nothing.
	for _, want := range []string{"100", "50"} {
		_, added, err := x.s.TopUp(ctx, x.user, x.primary.Nickname, "usd")
		if err != nil || added != unit(want) {
			t.Fatalf("top-up added %d, %v; want %s", added, err, want)
		}
	}
	if _, _, err := x.s.TopUp(ctx, x.user, x.primary.Nickname, "USD"); twinex.ErrorReason(err) != exchange.TestFundsLimit {
		t.Fatalf("top-up at the cap: %v, want %s", err, exchange.TestFundsLimit)
	}
	if got, _ := x.balance(x.primary.ID, "USD"); got != unit("250") {
		t.Fatalf("USD = %d, want the cap 250", got)
	}
	// The cap counts the group: moving funds to another account and
	// topping up again gains nothing.
	if _, err := x.s.Transfer(ctx, exchange.TransferRequest{UserID: x.user, Currency: "USD", From: x.primary.Nickname, To: x.bots.Nickname, Amount: "200"}, twinex.KeyUse{}); err != nil {
		t.Fatal(err)
	}
	for _, nick := range []string{x.primary.Nickname, x.bots.Nickname} {
		if _, _, err := x.s.TopUp(ctx, x.user, nick, "USD"); twinex.ErrorReason(err) != exchange.TestFundsLimit {
			t.Fatalf("top-up of %s with the group at the cap: %v", nick, err)
		}
	}
	for _, c := range []struct{ nick, cur, reason string }{
		{"someone-else", "USD", twinex.InvalidAccountName},
		{x.primary.Nickname, "ETH", twinex.InvalidFundTransfer},
		{x.primary.Nickname, "DOGE", twinex.InvalidFundTransfer},
	} {
		if _, _, err := x.s.TopUp(ctx, x.user, c.nick, c.cur); twinex.ErrorReason(err) != c.reason {
			t.Errorf("top-up %s %s: %v, want %s", c.nick, c.cur, err, c.reason)
		}
	}
	// Without a faucet (production) there are no test funds.
	x.s.Faucet = nil
	before, _ := x.balance(x.bots.ID, "USD")
	if err := x.s.Welcome(ctx, x.bots.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := x.balance(x.bots.ID, "USD"); got != before {
		t.Fatalf("production welcome gave %d", got-before)
	}
	if _, _, err := x.s.TopUp(ctx, x.user, x.bots.Nickname, "USD"); twinex.ErrorReason(err) != twinex.EndpointNotFound {
		t.Fatalf("production top-up: %v", err)
	}
}

func TestNewFaucetRefusesBadSettings(t *testing.T) {
	ms := twinex.DefaultMarkets()
	for _, g := range []map[string][2]string{
		{"DOGE": {"1", "2"}},
		{"USD": {"0", "2"}},
		{"USD": {"x", "2"}},
		{"USD": {"10", "5"}},
		{"usd": {"1", "2"}},
	} {
		if _, err := exchange.NewFaucet(ms, g); err == nil {
			t.Errorf("NewFaucet(%v) accepted", g)
		}
	}
	if f := exchange.DefaultFaucet(ms); len(f.Grants) != 5 || f.Grant("usd") == nil {
		t.Fatalf("default faucet: %+v", f)
	}
}

func TestTransferRules(t *testing.T) {
	x := newFixture(t, exchange.DefaultFaucet(twinex.DefaultMarkets()))
	ctx := context.Background()
	if err := x.s.Welcome(ctx, x.primary.ID); err != nil {
		t.Fatal(err)
	}
	p, b := x.primary.Nickname, x.bots.Nickname
	for _, c := range []struct {
		req    exchange.TransferRequest
		reason string
	}{
		{exchange.TransferRequest{Currency: "DOGE", From: p, To: b, Amount: "1"}, twinex.InvalidFundTransfer},
		{exchange.TransferRequest{Currency: "USD", From: "", To: b, Amount: "1"}, twinex.MissingAccountName},
		{exchange.TransferRequest{Currency: "USD", From: p, To: "nope", Amount: "1"}, twinex.InvalidAccountName},
		{exchange.TransferRequest{Currency: "USD", From: p, To: b, Amount: ""}, twinex.InvalidQuantity},
		{exchange.TransferRequest{Currency: "USD", From: p, To: b, Amount: "-1"}, twinex.InvalidQuantity},
		{exchange.TransferRequest{Currency: "USD", From: p, To: b, Amount: "one"}, twinex.InvalidQuantity},
		{exchange.TransferRequest{Currency: "USD", From: p, To: p, Amount: "1"}, twinex.InvalidFundTransfer},
		{exchange.TransferRequest{Currency: "USD", From: p, To: b, Amount: "10000.01"}, twinex.InsufficientFunds},
	} {
		c.req.UserID = x.user
		if _, err := x.s.Transfer(ctx, c.req, twinex.KeyUse{}); twinex.ErrorReason(err) != c.reason {
			t.Errorf("Transfer(%+v) = %v, want %s", c.req, err, c.reason)
		}
	}
	got, err := x.s.Transfer(ctx, exchange.TransferRequest{UserID: x.user, Currency: "usd", From: p, To: b, Amount: "2500.5"}, twinex.KeyUse{})
	if err != nil {
		t.Fatal(err)
	}
	if got.To.ID != x.bots.ID || twinex.FormatUnits(got.Amount, got.Currency.Scale) != "2500.5" {
		t.Fatalf("transferred %+v", got)
	}
	if total, _ := x.balance(x.bots.ID, "USD"); twinex.FormatUnits(total, got.Currency.Scale) != "2500.5" {
		t.Fatalf("bots hold %d", total)
	}
	both, err := x.s.BalancesOf(ctx, []int64{x.primary.ID, x.bots.ID})
	if err != nil || len(both[x.bots.ID]) != 1 || len(both[x.primary.ID]) != 5 {
		t.Fatalf("BalancesOf: %+v %v", both, err)
	}
	list, err := x.s.Transfers(ctx, x.bots.ID, 0, 10)
	if err != nil || len(list) != 1 || list[0].Kind != twinex.TransferIn {
		t.Fatalf("bots' transfers: %+v %v", list, err)
	}
}

func TestOrdersFillsAndPaging(t *testing.T) {
	ms := twinex.DefaultMarkets()
	x := newFixture(t, exchange.DefaultFaucet(ms))
	ctx := context.Background()
	for _, a := range []int64{x.primary.ID, x.bots.ID} {
		if err := x.s.Welcome(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	m := ms.Market("btcusd")
	place := func(acct int64, side twinex.Side, price, amount string) twinex.Order {
		t.Helper()
		p, _ := m.ParsePrice(price)
		a, _ := m.ParseAmount(amount)
		res, err := x.s.Core.Do(ctx, engine.Command{Kind: engine.Place, AccountID: acct, Market: ms.Index("btcusd"), Side: side, Type: twinex.Limit, Price: p, Amount: a})
		if err == nil {
			err = res.Err
		}
		if err != nil {
			t.Fatal(err)
		}
		return res.Order
	}
	// The bots sell three times; the primary account buys each.
	for i := 0; i < 3; i++ {
		place(x.bots.ID, twinex.Sell, "100", "0.1")
		place(x.primary.ID, twinex.Buy, "100", "0.1")
	}
	rest := place(x.primary.ID, twinex.Buy, "90", "0.2")
	if _, held := x.balance(x.primary.ID, "USD"); held == 0 {
		t.Fatal("the resting buy holds nothing")
	}
	open, err := x.s.OpenOrders(ctx, x.primary.ID)
	if err != nil || len(open) != 1 || open[0].ID != rest.ID {
		t.Fatalf("open orders: %+v %v", open, err)
	}
	// Another account cannot cancel it: not found, not forbidden.
	if _, _, err := x.s.Cancel(ctx, x.bots.ID, rest.ID, twinex.KeyUse{}); twinex.ErrorReason(err) != twinex.OrderNotFound {
		t.Fatalf("cancel by another account: %v", err)
	}
	o, done, err := x.s.Cancel(ctx, x.primary.ID, rest.ID, twinex.KeyUse{})
	if err != nil || !done || o.Status != twinex.StatusCancelled {
		t.Fatalf("cancel: %+v %v", o, err)
	}
	// Cancelling it again answers with the closed order.
	if o, done, err := x.s.Cancel(ctx, x.primary.ID, rest.ID, twinex.KeyUse{}); err != nil || done || o.ID != rest.ID {
		t.Fatalf("second cancel: %+v %v", o, err)
	}
	if _, held := x.balance(x.primary.ID, "USD"); held != 0 {
		t.Fatalf("held after cancel: %d", held)
	}

	fills, err := x.s.Fills(ctx, x.primary.ID, 0, 2)
	if err != nil || len(fills) != 2 || fills[0].Side != twinex.Buy || fills[0].Maker {
		t.Fatalf("first page of fills: %+v %v", fills, err)
	}
	more, err := x.s.Fills(ctx, x.primary.ID, fills[1].ID, 2)
	if err != nil || len(more) != 1 || more[0].ID >= fills[1].ID {
		t.Fatalf("second page of fills: %+v %v", more, err)
	}
	maker, err := x.s.Fills(ctx, x.bots.ID, 0, 1)
	if err != nil || len(maker) != 1 || maker[0].Side != twinex.Sell || !maker[0].Maker {
		t.Fatalf("the bots' fill: %+v %v", maker, err)
	}
	hist, err := x.s.OrderHistory(ctx, x.primary.ID, 0, 2)
	if err != nil || len(hist) != 2 || hist[0].ID != rest.ID {
		t.Fatalf("history: %+v %v", hist, err)
	}
	older, err := x.s.OrderHistory(ctx, x.primary.ID, hist[1].ID, 10)
	if err != nil || len(older) != 2 {
		t.Fatalf("older history: %+v %v", older, err)
	}
}
