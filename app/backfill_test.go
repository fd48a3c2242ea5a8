package app

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

func pubticker(t *testing.T, a *App, symbol string) map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + a.Addr() + "/v1/pubticker/" + symbol)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func tradeCount(t *testing.T, a *App) int {
	t.Helper()
	ts, err := a.st.store.Trades(context.Background(), twinex.TradeQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) == 0 {
		return 0
	}
	return int(ts[0].ID)
}

// TestBackfillFromTheFirstRequest: a fresh sandbox answers its first
// ticker with a last price and a day's volume; the history touches no
// balance (the ledger verifies, the bots hold only their funding), a
// restart does not write it again, and a reset does.
func TestBackfillFromTheFirstRequest(t *testing.T) {
	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, Sim: true, SimSeed: 3, Backfill: 24 * time.Hour}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := pubticker(t, a, "btcusd")
	vol, _ := v["volume"].(map[string]any)
	if v["last"] == nil || vol == nil || vol["BTC"] == "0" || vol["BTC"] == nil {
		t.Fatalf("first ticker %v: want last and volume", v)
	}
	n := tradeCount(t, a)
	if n < 5*1440 {
		t.Fatalf("%d trades backfilled, want at least one a minute per market", n)
	}
	if st, v := admin(t, a, "GET", "/admin/v1/verify", ""); st != 200 || v["ok"] != true {
		t.Fatalf("verify after the backfill: %d %v", st, v)
	}
	a.Close()

	a = &App{Listen: "127.0.0.1:0", DataDir: dir, Sim: true, SimSeed: 3, Backfill: 24 * time.Hour}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := tradeCount(t, a); got < n || got > n+1000 {
		t.Fatalf("after a restart the last trade id is %d, was %d: backfilled twice?", got, n)
	}
	if st, v := admin(t, a, "POST", "/admin/v1/sandbox/reset", ""); st != 200 {
		t.Fatalf("reset: %d %v", st, v)
	}
	if got := tradeCount(t, a); got < 5*1440 || got > n+1000 {
		t.Fatalf("after a reset the last trade id is %d", got)
	}
	if v := pubticker(t, a, "ethusd"); v["last"] == nil {
		t.Fatalf("ticker after a reset: %v", v)
	}
}

// TestNoBackfillByDefault: the App's zero Backfill writes no history.
func TestNoBackfillByDefault(t *testing.T) {
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Sim: true, SimSeed: 3}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// The live bots may have traded a little meanwhile; a backfill is
	// thousands of trades.
	if n := tradeCount(t, a); n > 100 {
		t.Fatalf("%d trades without a backfill", n)
	}
}
