package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

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

// TestV2SubscribeIsBounded: one v2 message asking for a symbol thousands of
// times is refused (each pair costs a snapshot or a candle history), and a
// symbol repeated within the limit is subscribed once.
func TestV2SubscribeIsBounded(t *testing.T) {
	ts := privateServer(t)
	sub := func(c *websocket.Conn, n int) {
		t.Helper()
		syms := make([]string, n)
		for i := range syms {
			syms[i] = "btcusd"
		}
		b, _ := json.Marshal(map[string]any{"type": "subscribe", "subscriptions": []any{map[string]any{"name": "candles_1m", "symbols": syms}}})
		if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, ts, "/v2/marketdata", nil)
	sub(c, 6000)
	v, data := next(t, c, 5*time.Second)
	if m, _ := v.(map[string]any); m["result"] != "error" || m["reason"] != "InvalidJson" {
		t.Fatalf("6,000 pairs in one message: %s", data)
	}
	c2 := dial(t, ts, "/v2/marketdata", nil)
	sub(c2, 10)
	nextOf(t, c2, "candles_1m_updates") // the history, once
	sub(c2, 1)                          // again: already subscribed, no second history
	c2.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	for {
		_, data, err := c2.ReadMessage()
		if err != nil {
			break
		}
		if strings.Contains(string(data), `"candles_1m_updates"`) && strings.Count(string(data), "],[") > 5 {
			t.Fatalf("a second candle history: %.200s", data)
		}
	}
}
