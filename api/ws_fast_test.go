package api

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinex/twinex/gemini"
)

// fastCall sends one request of the newer API and reads frames until the
// answer with that id.
func fastCall(t *testing.T, c *websocket.Conn, req string, id float64) map[string]any {
	t.Helper()
	c.WriteMessage(websocket.TextMessage, []byte(req))
	for i := 0; i < 100; i++ {
		v, _ := next(t, c, 5*time.Second)
		if m, ok := v.(map[string]any); ok && m["id"] == id {
			return m
		}
	}
	t.Fatalf("no answer to %s", req)
	return nil
}

func TestFastAPIMethods(t *testing.T) {
	ts := privateServer(t)
	c := dial(t, ts, "/", nil)
	if m := fastCall(t, c, `{"id":1,"method":"ping"}`, 1); m["status"] != 200.0 {
		t.Fatalf("ping %v", m)
	}
	if m := fastCall(t, c, `{"id":2,"method":"time"}`, 2); m["result"].(map[string]any)["serverTime"].(float64) < 1e12 {
		t.Fatalf("time %v", m)
	}
	if m := fastCall(t, c, `{"id":3,"method":"conninfo"}`, 3); len(m["rateLimits"].([]any)) != 4 {
		t.Fatalf("conninfo %v", m)
	}
	if m := fastCall(t, c, `{"id":4,"method":"subscribe","params":["btcusd@trade","nosuch@depth"]}`, 4); m["status"] != 400.0 || m["error"].(map[string]any)["code"] != -1013.0 {
		t.Fatalf("invalid stream %v", m)
	}
	if m := fastCall(t, c, `{"id":5,"method":"list_subscriptions"}`, 5); len(m["result"].([]any)) != 0 {
		t.Fatalf("one invalid name must refuse the whole request: %v", m)
	}
	if m := fastCall(t, c, `{"id":6,"method":"order.place","params":{}}`, 6); m["error"].(map[string]any)["code"] != -1020.0 {
		t.Fatalf("order.place %v", m)
	}
	if m := fastCall(t, c, `{"id":7,"method":"SUBSCRIBE","params":["orders@account"]}`, 7); m["error"].(map[string]any)["code"] != -1020.0 {
		t.Fatalf("orders@account %v", m)
	}
	if m := fastCall(t, c, `{"id":8,"method":"depth","params":{"symbol":"nosuch"}}`, 8); m["error"].(map[string]any)["code"] != -1013.0 {
		t.Fatalf("depth of no market %v", m)
	}
}

func TestFastAPIStreams(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	alice := client(ts, newKey(t, ts, "alice@example.com", `{"roles":"trader"}`, "USD", "100000"))
	bob := client(ts, newKey(t, ts, "bob@example.com", `{"roles":"trader"}`, "BTC", "2"))
	for _, p := range []gemini.Decimal{"30000", "30001"} {
		if _, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.5", Price: p, Side: "sell"}); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, ts, "/?snapshot=-1", nil)
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"method":"subscribe","params":["btcusd@trade","btcusd@bookTicker","btcusd@depth@100ms","btcusd@depth5"]}`))
	var lastU float64
	seen := map[string]bool{}
	for len(seen) < 4 {
		v, data := next(t, c, 5*time.Second)
		m := v.(map[string]any)
		switch {
		case m["id"] == 1.0:
			seen["ack"] = true
		case m["e"] == "depthUpdate":
			if m["U"] != m["u"] || len(m["a"].([]any)) != 2 {
				t.Fatalf("snapshot frame %s", data)
			}
			lastU = m["u"].(float64)
			seen["depth"] = true
		case m["lastUpdateId"] != nil:
			seen["depth5"] = true
		case m["a"] == "30000.00":
			seen["ticker"] = true
		default:
			t.Fatalf("unexpected %s", data)
		}
	}
	if _, err := alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.2", Price: "30000", Side: "buy"}); err != nil {
		t.Fatal(err)
	}
	seen = map[string]bool{}
	for len(seen) < 4 {
		v, data := next(t, c, 5*time.Second)
		m := v.(map[string]any)
		switch {
		case m["t"] != nil:
			if m["p"] != "30000.00" || m["q"] != "0.2" || m["m"] != false || m["s"] != "btcusd" {
				t.Fatalf("trade %s", data)
			}
			seen["trade"] = true
		case m["e"] == "depthUpdate":
			if m["U"] != lastU {
				t.Fatalf("gap: U %v after u %v", m["U"], lastU)
			}
			lastU = m["u"].(float64)
			seen["depth"] = true
		case m["lastUpdateId"] != nil:
			if m["lastUpdateId"] != lastU {
				t.Fatalf("depth5 %s", data)
			}
			seen["depth5"] = true
		case m["A"] == "0.3":
			seen["ticker"] = true
		}
	}
	var depth struct {
		Result struct {
			LastUpdateID float64     `json:"lastUpdateId"`
			Asks         [][2]string `json:"asks"`
		} `json:"result"`
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":"d","method":"depth","params":{"symbol":"btcusd","limit":1}}`))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var probe struct{ ID any }
		json.Unmarshal(data, &probe)
		if probe.ID == "d" {
			json.Unmarshal(data, &depth)
			break
		}
	}
	if depth.Result.LastUpdateID != lastU || len(depth.Result.Asks) != 1 || depth.Result.Asks[0] != [2]string{"30000.00", "0.3"} {
		t.Fatalf("depth %+v (last u %v)", depth, lastU)
	}
}
