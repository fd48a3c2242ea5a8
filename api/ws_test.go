package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinex/twinex/gemini"
)

// wsURL turns a test server's URL and a path into a ws:// URL.
func wsURL(ts *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + path
}

func dial(t *testing.T, ts *httptest.Server, path string, h http.Header) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, path), h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", path, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// next reads one frame within d and decodes it.
func next(t *testing.T, c *websocket.Conn, d time.Duration) (any, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("frame %s: %v", data, err)
	}
	return v, data
}

// nextOf reads frames until one whose "type" is typ (objects) and returns it.
func nextOf(t *testing.T, c *websocket.Conn, typ string) map[string]any {
	t.Helper()
	for i := 0; i < 200; i++ {
		v, _ := next(t, c, 5*time.Second)
		if m, ok := v.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	t.Fatalf("no %s frame", typ)
	return nil
}

// nextArray reads frames until an array arrives.
func nextArray(t *testing.T, c *websocket.Conn) []any {
	t.Helper()
	for i := 0; i < 200; i++ {
		v, _ := next(t, c, 5*time.Second)
		if a, ok := v.([]any); ok {
			return a
		}
	}
	t.Fatal("no array frame")
	return nil
}

func orderEventsHeader(t *testing.T, cl *gemini.Client) http.Header {
	t.Helper()
	h, err := cl.SignedHeader("/v1/order/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestV2L2SnapshotUpdatesAndTrades(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	alice := client(ts, newKey(t, ts, "alice@example.com", `{"roles":"trader"}`, "USD", "100000"))
	bob := client(ts, newKey(t, ts, "bob@example.com", `{"roles":"trader"}`, "BTC", "2"))
	if _, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.5", Price: "30000", Side: "sell"}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, ts, "/v2/marketdata/", nil)
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]},{"name":"candles_1hr","symbols":["BTCUSD"]}]}`))
	snap := nextOf(t, c, "l2_updates")
	for _, k := range []string{"changes", "trades", "auction_events"} {
		if _, ok := snap[k]; !ok {
			t.Fatalf("snapshot without %s: %v", k, snap)
		}
	}
	if ch := snap["changes"].([]any); len(ch) != 1 || ch[0].([]any)[0] != "sell" || ch[0].([]any)[1] != "30000.00" {
		t.Fatalf("snapshot changes %v", ch)
	}
	if _, err := alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.2", Price: "30000", Side: "buy"}); err != nil {
		t.Fatal(err)
	}
	tr := nextOf(t, c, "trade")
	if tr["price"] != "30000.00" || tr["quantity"] != "0.2" || tr["side"] != "buy" || tr["symbol"] != "BTCUSD" {
		t.Fatalf("trade %v", tr)
	}
	up := nextOf(t, c, "l2_updates")
	if _, ok := up["trades"]; ok {
		t.Fatalf("update with trades: %v", up)
	}
	if ch := up["changes"].([]any); len(ch) != 1 || ch[0].([]any)[2] != "0.3" {
		t.Fatalf("update %v", up)
	}
	cd := nextOf(t, c, "candles_1hr_updates")
	if rows := cd["changes"].([]any); len(rows) != 1 || rows[0].([]any)[4] != 30000.0 {
		t.Fatalf("candles %v", cd)
	}
}

func TestV2UnknownSymbolClosesAnEmptyConnection(t *testing.T) {
	ts := privateServer(t)
	c := dial(t, ts, "/v2/marketdata", nil)
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["DOGEUSD"]}]}`))
	v, _ := next(t, c, 5*time.Second)
	if m := v.(map[string]any); m["result"] != "error" || m["reason"] != "NoValidTradingPairs" {
		t.Fatalf("got %v", v)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("want close 1008, got %v", err)
	}
}

func TestMultiMarketSnapshotsAndSequence(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	bob := client(ts, newKey(t, ts, "bob@example.com", `{"roles":"trader"}`, "BTC", "2", "ETH", "10"))
	for _, o := range []gemini.NewOrderRequest{
		{Symbol: "btcusd", Amount: "0.5", Price: "30000", Side: "sell"},
		{Symbol: "btcusd", Amount: "0.5", Price: "30001", Side: "sell"},
		{Symbol: "btcusd", Amount: "0.5", Price: "30002", Side: "sell"},
		{Symbol: "ethusd", Amount: "1", Price: "2000", Side: "sell"},
	} {
		if _, err := bob.NewOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, ts, "/v1/multimarketdata?symbols=btcusd,ethusd&heartbeat=true&trades=false&bids=true&offers=true", nil)
	for i, sym := range []string{"BTCUSD", "ETHUSD"} {
		v, _ := next(t, c, 5*time.Second)
		m := v.(map[string]any)
		if m["socket_sequence"] != float64(i) || m["type"] != "update" || m["timestampms"] != nil {
			t.Fatalf("snapshot %d: %v", i, m)
		}
		for _, e := range m["events"].([]any) {
			if e.(map[string]any)["symbol"] != sym || e.(map[string]any)["reason"] != "initial" {
				t.Fatalf("snapshot %d event %v", i, e)
			}
		}
	}
	if _, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "ethusd", Amount: "1", Price: "2001", Side: "sell"}); err != nil {
		t.Fatal(err)
	}
	v, _ := next(t, c, 5*time.Second)
	m := v.(map[string]any)
	e := m["events"].([]any)[0].(map[string]any)
	if m["socket_sequence"] != 2.0 || e["reason"] != "place" || e["delta"] != "1" || e["symbol"] != "ETHUSD" {
		t.Fatalf("update %v", m)
	}
}

func TestOrderEventsLifecycle(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	alice := client(ts, newKey(t, ts, "alice@example.com", `{"roles":"trader"}`, "USD", "100000"))
	bob := client(ts, newKey(t, ts, "bob@example.com", `{"roles":"trader"}`, "BTC", "2"))
	resting, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.5", Price: "30000", Side: "sell"})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, ts, "/v1/order/events?eventTypeFilter=initial&eventTypeFilter=accepted&eventTypeFilter=fill&eventTypeFilter=booked&eventTypeFilter=closed&eventTypeFilter=cancelled", orderEventsHeader(t, bob))
	ack, _ := next(t, c, 5*time.Second)
	if a := ack.(map[string]any); a["type"] != "subscription_ack" || len(a["eventTypeFilter"].([]any)) != 6 {
		t.Fatalf("ack %v", ack)
	}
	initial := nextArray(t, c)
	if len(initial) != 1 || initial[0].(map[string]any)["order_id"] != resting.OrderID || initial[0].(map[string]any)["type"] != "initial" {
		t.Fatalf("initial %v", initial)
	}
	if _, err := alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.5", Price: "30000", Side: "buy"}); err != nil {
		t.Fatal(err)
	}
	evs := nextArray(t, c)
	var types []string
	for _, e := range evs {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if strings.Join(types, ",") != "fill,closed" {
		t.Fatalf("events %v", evs)
	}
	fill, closed := evs[0].(map[string]any), evs[1].(map[string]any)
	f := fill["fill"].(map[string]any)
	if fill["symbol"] != "btcusd" || fill["order_id"] != resting.OrderID || f["liquidity"] != "Maker" || f["price"] != "30000.00" || fill["executed_amount"] != "0.5" {
		t.Fatalf("fill %v", fill)
	}
	st, err := bob.OrderStatus(ctx, gemini.OrderStatusRequest{OrderID: resting.OrderID})
	if err != nil || fmt.Sprint(st.ExecutedAmount) != closed["executed_amount"] || fmt.Sprint(st.AvgExecutionPrice) != closed["avg_execution_price"] ||
		st.Timestampms != int64(closed["timestampms"].(float64)) || st.IsLive != closed["is_live"] || fmt.Sprint(st.RemainingAmount) != closed["remaining_amount"] {
		t.Fatalf("status %+v vs %v (%v)", st, closed, err)
	}
}

func TestOrderEventsRefusedUpgrades(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "bob@example.com", `{"roles":"trader","ip":["10.1.2.3"]}`)
	h := orderEventsHeader(t, client(ts, k))
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, "/v1/order/events"), h)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("allowlist: %v %v", err, resp)
	}
	k2 := newKey(t, ts, "carol@example.com", `{"roles":"trader"}`)
	c2 := client(ts, k2) // one client: its nonces increase
	h = orderEventsHeader(t, c2)
	h.Set("X-GEMINI-SIGNATURE", strings.Repeat("0", 96))
	if _, resp, err = websocket.DefaultDialer.Dial(wsURL(ts, "/v1/order/events"), h); err == nil || resp.StatusCode != 400 {
		t.Fatalf("bad signature: %v %v", err, resp)
	}
	h = orderEventsHeader(t, c2)
	if _, resp, err = websocket.DefaultDialer.Dial(wsURL(ts, "/v1/order/events?eventTypeFilter=nonsense"), h); err == nil || resp.StatusCode != 400 {
		t.Fatalf("bad filter: %v %v", err, resp)
	}
}

func TestOrderEventsSocketClosesOnRevocation(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "bob@example.com", `{"roles":"trader"}`)
	c := dial(t, ts, "/v1/order/events", orderEventsHeader(t, client(ts, k)))
	next(t, c, 5*time.Second) // ack
	next(t, c, 5*time.Second) // []
	if status, v := call(t, ts, "POST", "/admin/v1/keys/revoke", `{"key":"`+k.Key+`"}`); status != 200 {
		t.Fatalf("revoke: %d %v", status, v)
	}
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok || ce.Code != websocket.ClosePolicyViolation || time.Since(start) > time.Second {
			t.Fatalf("want close 1008 within 1s, got %v after %v", err, time.Since(start))
		}
		return
	}
}

// TestRefusedUpgrades: each way an upgrade is refused answers the REST
// error object with its status instead of 101.
func TestRefusedUpgrades(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "bob@example.com", `{"roles":"trader"}`)
	kc := client(ts, k)
	replayed := orderEventsHeader(t, kc)
	dial(t, ts, "/v1/order/events", replayed) // uses up its nonce
	wrongPath, err := kc.SignedHeader("/v1/balances", nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		h          http.Header
		status     int
		reason     string
	}{
		{"v1 unknown symbol", "/v1/marketdata/dogeusd", nil, 400, "InvalidSymbol"},
		{"v1 bad flag", "/v1/marketdata/btcusd?heartbeat=maybe", nil, 400, "InvalidJson"},
		{"multi without symbols", "/v1/multimarketdata", nil, 400, "InvalidJson"},
		{"multi unknown symbol", "/v1/multimarketdata?symbols=btcusd,dogeusd", nil, 400, "InvalidSymbol"},
		{"order events without headers", "/v1/order/events", http.Header{}, 401, "MissingApikeyHeader"},
		{"replayed nonce", "/v1/order/events", replayed, 400, "InvalidNonce"},
		{"payload for another path", "/v1/order/events", wrongPath, 400, "EndpointMismatch"},
		{"unknown symbol filter", "/v1/order/events?symbolFilter=dogeusd", orderEventsHeader(t, kc), 400, "InvalidSymbol"},
	}
	for _, c := range cases {
		_, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, c.path), c.h)
		if err == nil || resp == nil {
			t.Errorf("%s: upgraded (%v)", c.name, err)
			continue
		}
		var body struct{ Result, Reason string }
		json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != c.status || body.Result != "error" || body.Reason != c.reason {
			t.Errorf("%s: %d %+v, want %d %s", c.name, resp.StatusCode, body, c.status, c.reason)
		}
	}
}

// TestOrderEventsSocketClosesWhenTheKeyExpires: a key that reaches its
// expiry closes its sockets within a second.
func TestOrderEventsSocketClosesWhenTheKeyExpires(t *testing.T) {
	ts := privateServer(t)
	at := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	k := newKey(t, ts, "bob@example.com", `{"roles":"trader","expires":"`+at.UTC().Format(time.RFC3339)+`"}`)
	c := dial(t, ts, "/v1/order/events", orderEventsHeader(t, client(ts, k)))
	next(t, c, 5*time.Second)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok || ce.Code != websocket.ClosePolicyViolation || ce.Text != "API key expired" {
			t.Fatalf("want 1008 API key expired, got %v", err)
		}
		if late := time.Since(at); late > time.Second {
			t.Fatalf("closed %v after the expiry", late)
		}
		return
	}
}

// TestV2FloodIsClosed: a client sending more than the allowed messages a
// second is closed with 1008.
func TestV2FloodIsClosed(t *testing.T) {
	ts := privateServer(t)
	c := dial(t, ts, "/v2/marketdata", nil)
	for i := 0; i < 60; i++ {
		c.WriteMessage(websocket.TextMessage, []byte(`{"type":"unsubscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]}]}`))
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "too many messages") {
			t.Fatalf("want 1008 too many messages, got %v", err)
		}
		return
	}
}

// TestConnectionsLeaveNothingBehind: after many connections of every kind
// open and close, their goroutines are gone, the per-address count is back
// to zero and the hub holds no subscriber.
func TestConnectionsLeaveNothingBehind(t *testing.T) {
	ts := privateServer(t)
	srv := serverOf(t, ts)
	kc := client(ts, newKey(t, ts, "bob@example.com", `{"roles":"trader"}`))
	base := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		for _, p := range []string{"/v2/marketdata", "/v1/marketdata/btcusd?heartbeat=true", "/v1/multimarketdata?symbols=btcusd,ethusd", "/v1/order/events"} {
			var h http.Header
			if p == "/v1/order/events" {
				h = orderEventsHeader(t, kc)
			}
			c, _, err := websocket.DefaultDialer.Dial(wsURL(ts, p), h)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if p == "/v2/marketdata" {
				c.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]}]}`))
			}
			next(t, c, 5*time.Second)
			if i%2 == 0 {
				c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			}
			c.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.DrainWebSockets(ctx)
	for i := 0; i < 50 && runtime.NumGoroutine() > base+5; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+5 {
		t.Errorf("%d goroutines, %d before", n, base)
	}
	srv.wsMu.Lock()
	open := len(srv.wsByIP) + len(srv.wsByKey)
	srv.wsMu.Unlock()
	if open != 0 || srv.Feed.Subscribers() != 0 {
		t.Errorf("left behind: %d connection counts, %d subscribers", open, srv.Feed.Subscribers())
	}
}

// TestOrderEventsOfAMasterKey: a master key streams every account of its
// group with account_name, or the one account its payload names.
func TestOrderEventsOfAMasterKey(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	alice := client(ts, newKey(t, ts, "alice@example.com", `{"roles":"trader"}`, "USD", "100000"))
	mk := newKey(t, ts, "alice@example.com", `{"master":true,"roles":"administrator,trader"}`)
	master := client(ts, mk)
	if _, err := master.CreateAccount(ctx, "Bot Two", ""); err != nil {
		t.Fatal(err)
	}
	all := dial(t, ts, "/v1/order/events", orderEventsHeader(t, master))
	h, err := master.ForAccount("bot-two").SignedHeader("/v1/order/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	one := dial(t, ts, "/v1/order/events", h)
	for _, c := range []*websocket.Conn{all, one} {
		next(t, c, 5*time.Second) // ack
		nextArray(t, c)           // initial
	}
	if _, err := alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.1", Price: "20000", Side: "buy"}); err != nil {
		t.Fatal(err)
	}
	evs := nextArray(t, all)
	if e := evs[0].(map[string]any); e["account_name"] != "primary" || e["type"] != "accepted" {
		t.Fatalf("group stream %v", evs)
	}
	one.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		_, data, err := one.ReadMessage()
		if err != nil {
			break
		}
		if strings.HasPrefix(string(data), "[") {
			t.Fatalf("the bot-two stream got primary's events: %s", data)
		}
	}
}
