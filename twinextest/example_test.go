package twinextest_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twinex/twinex/fault"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/twinextest"
)

// buyTheDip is the bot under test: it buys 0.01 BTC with an
// immediate-or-cancel order 0.5% above the ask when the ask is below
// limit, and reports whether it bought. A book with no asks (as while the
// maker re-quotes after a price move) is no dip.
func buyTheDip(ctx context.Context, c *gemini.Client, limit float64) (bool, error) {
	tk, err := c.Ticker(ctx, "btcusd")
	if err != nil {
		return false, err
	}
	if tk.Ask == "" {
		return false, nil
	}
	ask, err := strconv.ParseFloat(string(tk.Ask), 64)
	if err != nil || ask == 0 || ask > limit {
		return false, err
	}
	o, err := c.NewOrder(ctx, gemini.NewOrderRequest{
		Symbol: "btcusd", Side: gemini.SideBuy, Amount: "0.01",
		Price:   gemini.Decimal(strconv.FormatFloat(ask*1.005, 'f', 2, 64)),
		Options: []string{"immediate-or-cancel"},
	})
	if err != nil {
		return false, err
	}
	return !o.ExecutedAmount.IsZero(), nil
}

// TestExampleBot tests a bot against an in-process Twinex: a live
// simulated market, a funded key, the gemini client, and the admin client
// to move the market and to close it.
func TestExampleBot(t *testing.T) {
	start := time.Now()
	tx := twinextest.New(t, twinextest.WithSeed(42))
	t.Logf("Twinex ready in %v at %s", time.Since(start).Round(time.Millisecond), tx.URL)
	ctx := context.Background()
	bot := tx.Keys[0].Client()

	// Wait for the simulator's first quotes.
	for i := 0; ; i++ {
		if tk, err := bot.Ticker(ctx, "btcusd"); err == nil && tk.Ask != "" {
			break
		}
		if i == 100 {
			t.Fatal("the market never quoted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Above the bot's limit: it stays out.
	if bought, err := buyTheDip(ctx, bot, 20000); err != nil || bought {
		t.Fatalf("at 30000: bought %v, %v", bought, err)
	}
	// The operator crashes the price; the bot buys once the maker has
	// re-quoted around it.
	if err := tx.Admin.SetPrice("btcusd", "18000"); err != nil {
		t.Fatal(err)
	}
	var bought bool
	for i := 0; !bought; i++ {
		var err error
		if bought, err = buyTheDip(ctx, bot, 20000); err != nil {
			t.Fatal(err)
		}
		if i == 100 {
			t.Fatal("the bot never bought the dip")
		}
		time.Sleep(20 * time.Millisecond)
	}
	bals, err := bot.Balances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bals {
		if b.Currency == "BTC" && b.Amount != "10.01" {
			t.Errorf("BTC balance %s, want 10.01", b.Amount)
		}
	}
	// A halted market refuses the bot's orders with Gemini's error.
	if err := tx.Admin.SetMarketStatus("btcusd", "cancel_only"); err != nil {
		t.Fatal(err)
	}
	if _, err := buyTheDip(ctx, bot, 20000); !gemini.IsReason(err, "MarketNotOpen") {
		t.Fatalf("in cancel_only: %v", err)
	}
	if err := tx.Admin.Verify(); err != nil {
		t.Fatal(err)
	}
}

// TestOptions: a quiet exchange (no simulator) with two keys, one with
// the funds role, and Gemini's rate limits; and a fault from the start.
func TestOptions(t *testing.T) {
	start := time.Now()
	tx := twinextest.New(t, twinextest.WithSim(false), twinextest.WithRateLimits(),
		twinextest.WithKey("trader", "USD", "500"), twinextest.WithKey("trader,fundmanager", "ETH", "2"))
	if d := time.Since(start); d > 5*time.Second { // a sanity bound, not a benchmark
		t.Errorf("start took %v", d)
	}
	ctx := context.Background()
	if len(tx.Keys) != 2 {
		t.Fatalf("%d keys", len(tx.Keys))
	}
	bals, err := tx.Keys[1].Client().Balances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bals) != 1 || bals[0].Currency != "ETH" || bals[0].Amount != "2" {
		t.Errorf("second key's balances %+v", bals)
	}
	if tk, err := tx.Keys[0].Client().Ticker(ctx, "btcusd"); err != nil || tk.Bid != "" {
		t.Errorf("without the simulator the book is empty: %+v %v", tk, err)
	}
}

// TestFaultsAndScenario: a fault rule from the start meets the first
// signed request, and a shipped scenario plays.
func TestFaultsAndScenario(t *testing.T) {
	tx := twinextest.New(t, twinextest.WithFaults(fault.Spec{Error: "RateLimit", Count: 1}),
		twinextest.WithScenario("halt-and-reopen"))
	ctx := context.Background()
	c := tx.Keys[0].Client()
	if _, err := c.Balances(ctx); !gemini.IsRateLimited(err) {
		t.Fatalf("first request: %v, want the injected RateLimit", err)
	}
	if _, err := c.Balances(ctx); err != nil {
		t.Fatalf("second request: %v", err)
	}
	if st := tx.App.ScenarioStatus(); st.Name != "halt-and-reopen" {
		t.Fatalf("scenario %v", st)
	}
}
