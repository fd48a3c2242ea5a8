package app

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex/gemini"
)

// Reads right after an acknowledged write see it, although the store's
// tables are written behind the journal: each read of history waits for
// the projection (core.History), so /v1/mytrades and /v1/order/status
// never answer from before the trade.
func TestReadsSeeAcknowledgedWrites(t *testing.T) {
	ctx := context.Background()
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	client := func(email, currency, amount string) *gemini.Client {
		t.Helper()
		for _, c := range []struct{ path, body string }{
			{"/admin/v1/accounts", `{"email":"` + email + `","verified":true}`},
			{"/admin/v1/fund", `{"email":"` + email + `","currency":"` + currency + `","amount":"` + amount + `"}`},
		} {
			if st, v := admin(t, a, "POST", c.path, c.body); st != 200 {
				t.Fatalf("%s: %d %v", c.path, st, v)
			}
		}
		st, k := admin(t, a, "POST", "/admin/v1/keys", `{"email":"`+email+`","roles":"trader"}`)
		if st != 200 {
			t.Fatalf("key: %d %v", st, k)
		}
		return gemini.New("http://"+a.Addr(), k["key"].(string), k["secret"].(string))
	}
	seller := client("seller@example.com", "BTC", "10")
	buyer := client("buyer@example.com", "USD", "1000000")
	for i := range 25 {
		price := gemini.Decimal(fmt.Sprintf("%d.00", 30000+i))
		sell, err := seller.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: price, Side: "sell"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := buyer.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: price, Side: "buy",
			Options: []string{"immediate-or-cancel"}}); err != nil {
			t.Fatal(err)
		}
		trades, err := buyer.MyTrades(ctx, gemini.MyTradesOptions{Symbol: "btcusd", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(trades) != 1 || trades[0].Price != price {
			t.Fatalf("round %d: the buyer's latest trade %+v, want one at %s", i, trades, price)
		}
		got, err := seller.OrderStatus(ctx, gemini.OrderStatusRequest{OrderID: sell.OrderID})
		if err != nil {
			t.Fatal(err)
		}
		if got.IsLive || got.ExecutedAmount != "0.01" {
			t.Fatalf("round %d: the filled sell reads live %v, executed %s", i, got.IsLive, got.ExecutedAmount)
		}
	}
}

// A state that fails to open part way closes what it opened: the core's
// goroutines stop and the journal and store are closed.
func TestFailedOpenClosesWhatItOpened(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	a.Close()
	before := runtime.NumGoroutine()
	// Production refuses a sandbox's data, after the core is open.
	for range 3 {
		p := &App{Listen: "127.0.0.1:0", DataDir: dir, Mode: Production}
		if err := p.Open(ctx); err == nil || !strings.Contains(err.Error(), "sandbox") {
			p.Close()
			t.Fatalf("production on a sandbox's data: %v", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Fatalf("%d goroutines after three failed opens, %d before: the failed states were left open", n, before)
	}
}
