package api

import (
	"context"
	"slices"
	"testing"

	"github.com/twinex/twinex/gemini"
)

// TestMarketStatus: the operator sets a market's status; the API enforces
// it with Gemini's MarketNotOpen (cancels always pass) and shows it in the
// symbol details and /v1/symbols.
func TestMarketStatus(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	c := client(ts, newKey(t, ts, "ms@example.com", `{"roles":"trader"}`, "USD", "10000"))
	resting, err := c.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: "100", Side: "buy"})
	if err != nil {
		t.Fatal(err)
	}
	set := func(status string) {
		t.Helper()
		if st, v := call(t, ts, "POST", "/admin/v1/markets/BTCUSD/status", `{"status":"`+status+`"}`); st != 200 || v["status"] != status {
			t.Fatalf("set %s: %d %v", status, st, v)
		}
		d, err := c.SymbolDetails(ctx, "btcusd")
		if err != nil || d.Status != status {
			t.Fatalf("details after %s: %+v, %v", status, d, err)
		}
	}
	place := func(opts ...string) error {
		_, err := c.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: "101", Side: "buy", Options: opts})
		return err
	}
	for _, tt := range []struct {
		status               string
		plain, makerOrCancel bool // accepted?
	}{
		{"cancel_only", false, false},
		{"closed", false, false},
		{"post_only", false, true},
		{"limit_only", true, true},
		{"open", true, true},
	} {
		set(tt.status)
		for _, o := range []struct {
			opts []string
			ok   bool
		}{{nil, tt.plain}, {[]string{"maker-or-cancel"}, tt.makerOrCancel}} {
			err := place(o.opts...)
			if o.ok && err != nil {
				t.Errorf("%s %v: %v", tt.status, o.opts, err)
			}
			if !o.ok && !gemini.IsReason(err, "MarketNotOpen") {
				t.Errorf("%s %v: %v, want MarketNotOpen", tt.status, o.opts, err)
			}
		}
		syms, err := c.Symbols(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if listed := slices.Contains(syms, "btcusd"); listed == (tt.status == "closed") {
			t.Errorf("%s: /v1/symbols %v", tt.status, syms)
		}
		if tt.status == "cancel_only" {
			if _, err := c.CancelOrder(ctx, resting.OrderID); err != nil {
				t.Errorf("cancel in cancel_only: %v", err)
			}
		}
	}
	// Other markets are untouched; bad input is refused.
	if d, _ := c.SymbolDetails(ctx, "ethusd"); d == nil || d.Status != "open" {
		t.Errorf("ethusd details %+v", d)
	}
	if st, v := call(t, ts, "POST", "/admin/v1/markets/btcusd/status", `{"status":"halted"}`); st != 400 || v["reason"] != "InvalidJson" {
		t.Errorf("unknown status: %d %v", st, v)
	}
	if st, v := call(t, ts, "POST", "/admin/v1/markets/dogeusd/status", `{"status":"open"}`); st != 400 || v["reason"] != "InvalidSymbol" {
		t.Errorf("unknown market: %d %v", st, v)
	}
}
