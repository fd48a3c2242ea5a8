package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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
