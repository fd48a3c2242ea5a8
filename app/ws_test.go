package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/sqlite"
)

// TestResetClosesWebSockets: a sandbox reset replaces the state, so the
// old state's sockets are closed with 1001 (clients reconnect to the new
// one) instead of being left on a hub that no longer gets commits.
func TestResetClosesWebSockets(t *testing.T) {
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+a.Addr()+"/v2/marketdata", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]}]}`))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if st, v := admin(t, a, "POST", "/admin/v1/sandbox/reset", ``); st != 200 {
		t.Fatalf("reset: %d %v", st, v)
	}
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok || ce.Code != websocket.CloseGoingAway || !strings.Contains(ce.Text, "restarting") {
			t.Fatalf("want 1001, got %v", err)
		}
		break
	}
	// The new state serves sockets.
	c2, _, err := websocket.DefaultDialer.Dial("ws://"+a.Addr()+"/v2/marketdata", nil)
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
}

// TestOrderEventSocketsInTheActivityLogAndAlerts: an order-events upgrade
// from a new address raises the new-address alert as a REST call does,
// and the upgrade and the close are in the stored activity log.
func TestOrderEventSocketsInTheActivityLogAndAlerts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, TrustedProxies: "127.0.0.1/32"}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { a.Close() }()
	key, secret := demoKey(t, dir)
	demo, err := a.st.store.UserByEmail(ctx, DemoEmail)
	if err != nil {
		t.Fatal(err)
	}
	cl := gemini.New("http://"+a.Addr(), key, secret)
	if _, err := cl.Balances(ctx); err != nil { // the key's first address
		t.Fatal(err)
	}
	h, err := cl.SignedHeader("/v1/order/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Set("X-Forwarded-For", "198.51.100.7")
	c, _, err := websocket.DefaultDialer.Dial("ws://"+a.Addr()+"/v1/order/events", h)
	if err != nil {
		t.Fatal(err)
	}
	al := waitAlert(t, a, demo.ID, twinex.AlertNewIP)
	if al.IP != "198.51.100.7" || al.KeyID != key {
		t.Fatalf("alert %+v", al)
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.Close()
	if err := a.Close(); err != nil { // drains the sockets, then the recorder
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(dir, "twinex.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, err := db.Activity(ctx, twinex.ActivityFilter{UserID: demo.ID})
	if err != nil {
		t.Fatal(err)
	}
	var upgrade, closed bool
	for _, r := range recs {
		upgrade = upgrade || (r.Method == "GET" && r.Path == "/v1/order/events" && r.Status == 101 && r.IP == "198.51.100.7")
		closed = closed || (r.Method == "CLOSE" && strings.HasPrefix(r.Path, "/v1/order/events#messages=") && r.Reason != "")
	}
	if !upgrade || !closed {
		t.Fatalf("records %+v", recs)
	}
}
