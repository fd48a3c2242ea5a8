package api

import (
	"context"
	"testing"
	"time"

	"github.com/twinex/twinex/gemini"
)

// TestStatusReadSendsNoOrderEvent: reading an order's status changes
// nothing, so order events send nothing for it (every frame comes from a
// change the exchange committed).
func TestStatusReadSendsNoOrderEvent(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	bob := client(ts, newKey(t, ts, "bob@example.com", `{"roles":"trader"}`, "BTC", "2"))
	resting, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.5", Price: "30000", Side: "sell"})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, ts, "/v1/order/events?heartbeat=false", orderEventsHeader(t, bob))
	next(t, c, 5*time.Second) // ack
	nextArray(t, c)           // initial
	if _, err := bob.OrderStatus(ctx, gemini.OrderStatusRequest{OrderID: resting.OrderID}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	if _, data, err := c.ReadMessage(); err == nil {
		t.Fatalf("a status read sent %s", data)
	}
}
