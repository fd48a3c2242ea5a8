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

// TestRevocationClosesADelayedSocket: a key's order-event socket closes
// on revocation even while a frame-delay fault holds its writer.
func TestRevocationClosesADelayedSocket(t *testing.T) {
	ts, _ := faultServer(t)
	ctx := context.Background()
	k := newKey(t, ts, "del@example.com", `{"roles":"trader"}`, "BTC", "1")
	kc := client(ts, k)
	c := dial(t, ts, "/v1/order/events?heartbeat=false", orderEventsHeader(t, kc))
	next(t, c, 5*time.Second) // ack
	nextArray(t, c)           // initial
	addFault(t, ts, `{"key":"`+k.Key+`","frame_delay":"30s"}`)
	if _, err := kc.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.1", Price: "90000", Side: "sell"}); err != nil {
		t.Fatal(err) // its events are now held by the delay
	}
	time.Sleep(100 * time.Millisecond)
	if status, v := call(t, ts, "POST", "/admin/v1/keys/revoke", `{"key":"`+k.Key+`"}`); status != 200 {
		t.Fatalf("revoke: %d %v", status, v)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second)) // far less than the 30 s delay
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.ClosePolicyViolation || ce.Text != "API key revoked" {
			t.Fatalf("want close 1008 API key revoked, got %v", err)
		}
		return
	}
}
