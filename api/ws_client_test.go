package api

import (
	"context"
	"testing"
	"time"

	"github.com/twinex/twinex/gemini"
)

// TestGoClientStreamsAndReconnects: the Go client's streams deliver typed
// messages, and after the server drops the sockets they reconnect and
// start again with a snapshot.
func TestGoClientStreamsAndReconnects(t *testing.T) {
	ts, _ := faultServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	k := newKey(t, ts, "bob@example.com", `{"roles":"trader"}`, "BTC", "1")
	bob := client(ts, k)
	if _, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.1", Price: "30000", Side: "sell"}); err != nil {
		t.Fatal(err)
	}
	snapshots := make(chan gemini.MarketMessage, 10)
	go gemini.New(ts.URL, "", "").StreamMarketData(ctx, []gemini.Subscription{{Name: "l2", Symbols: []string{"BTCUSD"}}}, func(m gemini.MarketMessage) error {
		if m.Snapshot {
			snapshots <- m
		}
		return nil
	})
	orders := make(chan gemini.OrderMessage, 10)
	go bob.StreamOrderEvents(ctx, gemini.OrderEventsOptions{}, func(m gemini.OrderMessage) error {
		if m.Kind == "initial" {
			orders <- m
		}
		return nil
	})
	for round := 0; round < 2; round++ {
		select {
		case m := <-snapshots:
			if len(m.Changes) != 1 || m.Changes[0].Side != "sell" || m.Changes[0].Price != "30000.00" {
				t.Fatalf("round %d snapshot %+v", round, m)
			}
		case <-ctx.Done():
			t.Fatalf("round %d: no snapshot", round)
		}
		select {
		case m := <-orders:
			if len(m.Events) != 1 || m.Events[0].Type != "initial" || m.Events[0].Price != "30000.00" {
				t.Fatalf("round %d initial %+v", round, m)
			}
		case <-ctx.Done():
			t.Fatalf("round %d: no initial orders", round)
		}
		if round == 0 {
			addFault(t, ts, `{"public":true,"drop_sockets":true}`)
			addFault(t, ts, `{"key":"`+k.Key+`","drop_sockets":true}`)
		}
	}
}
