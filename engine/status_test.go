package engine

import (
	"testing"

	"github.com/twinex/twinex"
)

// TestSetMarketStatus: a status change applies to the next order, leaves
// resting orders and cancels alone, goes into the batch's meta, and comes
// back from it on Restore.
func TestSetMarketStatus(t *testing.T) {
	h := newHarness(t)
	h.deposit(100, "USD", "10000")
	o := h.place(ord{acct: 100, sym: "btcusd", side: twinex.Buy, price: "100", amount: "0.01"})
	i := h.ms.Index("btcusd")
	if r := h.apply(Command{Kind: SetMarketStatus, Market: i, Status: twinex.MarketCancelOnly}); r.Err != nil {
		t.Fatal(r.Err)
	}
	if h.x.Status(i) != twinex.MarketCancelOnly || h.x.Status(h.ms.Index("ethusd")) != twinex.MarketOpen {
		t.Fatalf("statuses %s, %s", h.x.Status(i), h.x.Status(h.ms.Index("ethusd")))
	}
	h.place(ord{acct: 100, sym: "btcusd", side: twinex.Buy, price: "100", amount: "0.01", wantFail: twinex.MarketNotOpen})
	h.place(ord{acct: 100, sym: "ethusd", side: twinex.Buy, price: "100", amount: "0.01"})
	var b twinex.Batch
	h.x.TakeChanges(&b)
	if b.Meta[MetaMarketStatus+"btcusd"] != "cancel_only" || len(b.Meta) != 1 {
		t.Fatalf("batch meta %v", b.Meta)
	}
	b = twinex.Batch{}
	h.x.TakeChanges(&b)
	if len(b.Meta) != 0 {
		t.Fatalf("status written twice: %v", b.Meta)
	}
	if r := h.apply(Command{Kind: Cancel, AccountID: 100, OrderID: o.ID}); r.Err != nil {
		t.Fatalf("cancel in cancel_only: %v", r.Err)
	}
	for _, bad := range []Command{
		{Kind: SetMarketStatus, Market: i, Status: "halted"},
		{Kind: SetMarketStatus, Market: 99, Status: twinex.MarketOpen},
	} {
		if r := h.apply(bad); r.Err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	// Restore reads the status back from the meta.
	x := New(h.ms)
	if err := x.Restore(&twinex.State{Meta: map[string]string{MetaMarketStatus + "btcusd": "post_only"}}, nil); err != nil {
		t.Fatal(err)
	}
	if x.Status(i) != twinex.MarketPostOnly || x.Status(h.ms.Index("ethusd")) != twinex.MarketOpen {
		t.Fatalf("restored statuses %s, %s", x.Status(i), x.Status(h.ms.Index("ethusd")))
	}
}
