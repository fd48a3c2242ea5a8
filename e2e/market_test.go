package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/twinex/twinex/app"
)

// TestMarketPageIsLive opens a market page with the simulator trading and
// waits for the book, the trades and the candles to arrive over the v2
// socket, under the dashboard's Content-Security-Policy.
func TestMarketPageIsLive(t *testing.T) {
	ctx, shot := browser(t)
	a := &app.App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Sim: true}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+a.Addr()+"/markets/btcusd")); err != nil {
		t.Fatal(err)
	}
	for _, sel := range []string{"#market-status", "#book-rows", "#trade-rows", "#candle-rows"} {
		want := "."
		if sel == "#market-status" {
			want = "Live"
		}
		var got string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if got, _ = chromedp.Run(ctx, chromedp.Text(sel)); strings.Contains(got, want) {
				break
			}
		}
		if !strings.Contains(got, want) {
			shot("market-" + strings.TrimPrefix(sel, "#"))
			t.Fatalf("%s: %q, want %q", sel, got, want)
		}
	}
	shot("market-live")
}
