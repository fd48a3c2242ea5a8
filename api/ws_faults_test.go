package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
)

// closeOf reads until the connection ends and returns the close error.
func closeOf(t *testing.T, c *websocket.Conn, within time.Duration) *websocket.CloseError {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce
	}
}

// TestSlowReaderIsClosedWithAReason: a connection whose queue fills (here
// because a fault holds its writes) is closed with 1008 and a reason, and
// what it received before has no hole.
func TestSlowReaderIsClosedWithAReason(t *testing.T) {
	ts, srv := faultServer(t)
	srv.WSQueue = 4
	ctx := context.Background()
	bob := client(ts, newKey(t, ts, "bob@example.com", `{"roles":"trader"}`, "BTC", "10"))
	c := dial(t, ts, "/v1/multimarketdata?symbols=btcusd&trades=false", nil)
	next(t, c, 5*time.Second) // snapshot, socket_sequence 0
	addFault(t, ts, `{"public":true,"frame_delay":"300ms"}`)
	for i := 0; i < 20; i++ {
		if _, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: gemini.Decimal("3000" + string(rune('0'+i%10))), Side: "sell"}); err != nil {
			t.Fatal(err)
		}
	}
	seq := 1.0
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			ce, ok := err.(*websocket.CloseError)
			if !ok || ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "slow reader") {
				t.Fatalf("want 1008 slow reader, got %v", err)
			}
			break
		}
		if !strings.Contains(string(data), `"socket_sequence":`+strconv.Itoa(int(seq))) {
			t.Fatalf("hole before %v: %s", seq, data)
		}
		seq++
	}
	if serverOf(t, ts).Feed.Dropped() != 1 {
		t.Fatalf("dropped %d", serverOf(t, ts).Feed.Dropped())
	}
}

// TestSocketFaults: drop_sockets closes a key's sockets at once with 1001;
// stop_heartbeats silences heartbeats while it is in place.
func TestSocketFaults(t *testing.T) {
	ts, srv := faultServer(t)
	srv.WSHeartbeat = 50 * time.Millisecond
	k := newKey(t, ts, "bob@example.com", `{"roles":"trader"}`)
	kc := client(ts, k) // one client: its nonces increase
	c := dial(t, ts, "/v1/order/events", orderEventsHeader(t, kc))
	next(t, c, 5*time.Second) // ack
	next(t, c, 5*time.Second) // []
	if hb := nextOf(t, c, "heartbeat"); hb["sequence"] != 0.0 {
		t.Fatalf("first heartbeat %v", hb)
	}
	id := addFault(t, ts, `{"key":"`+k.Key+`","stop_heartbeats":true}`)
	time.Sleep(100 * time.Millisecond) // a heartbeat may have been on its way
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, data, err := c.ReadMessage(); err == nil {
		t.Fatalf("a frame while heartbeats are stopped: %s", data)
	}
	if st, v := call(t, ts, "DELETE", "/admin/v1/faults/"+id, ""); st != 200 {
		t.Fatalf("remove fault: %d %v", st, v)
	}

	c2 := dial(t, ts, "/v1/order/events", orderEventsHeader(t, kc))
	next(t, c2, 5*time.Second)
	addFault(t, ts, `{"key":"`+k.Key+`","drop_sockets":true}`)
	if ce := closeOf(t, c2, 2*time.Second); ce.Code != websocket.CloseGoingAway || !strings.Contains(ce.Text, "sandbox fault") {
		t.Fatalf("drop_sockets: %v", ce)
	}
	if n := len(srv.Faults.List()); n != 0 {
		t.Fatalf("a drop_sockets rule was kept: %d rules", n)
	}
}

// TestOrderEventsLimitsAndGrace: the per-key connection limit refuses with
// 429, and a socket opened with a secret in its rotation grace closes when
// the grace ends.
func TestOrderEventsLimitsAndGrace(t *testing.T) {
	ts := privateServer(t)
	srv := serverOf(t, ts)
	srv.WSPerKey = 2
	var resp *http.Response
	var err error
	k := newKey(t, ts, "bob@example.com", `{"roles":"trader"}`)
	kc := client(ts, k) // one client: its nonces increase
	for i := 0; i < 2; i++ {
		c := dial(t, ts, "/v1/order/events", orderEventsHeader(t, kc))
		next(t, c, 5*time.Second)
	}
	_, resp, err = websocket.DefaultDialer.Dial(wsURL(ts, "/v1/order/events"), orderEventsHeader(t, kc))
	if err == nil || resp == nil || resp.StatusCode != 429 {
		t.Fatalf("third socket: %v %v", err, resp)
	}

	g := newKey(t, ts, "carol@example.com", `{"roles":"auditor"}`)
	gc := client(ts, g)
	if st, v := call(t, ts, "POST", "/admin/v1/keys/rotate", `{"key":"`+g.Key+`","grace":"1s"}`); st != 200 {
		t.Fatalf("rotate: %d %v", st, v)
	}
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, "/v1/order/events"), orderEventsHeader(t, gc)) // the old secret, in its grace
	if err != nil {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("during the grace: %v %s", err, b)
	}
	defer c.Close()
	next(t, c, 5*time.Second)
	ce := closeOf(t, c, 3*time.Second)
	if ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "grace") {
		t.Fatalf("end of grace: %v", ce)
	}
}

// recorded is a Recorder that keeps what it is given.
type recorded struct {
	mu   sync.Mutex
	list []twinex.Activity
}

func (r *recorded) Record(a twinex.Activity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, a)
}

func (r *recorded) find(method, path string) (twinex.Activity, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.list {
		if a.Method == method && strings.HasPrefix(a.Path, path) {
			return a, true
		}
	}
	return twinex.Activity{}, false
}

// TestOrderEventsActivityAndRoles: the activity log gets the accepted
// upgrade, a refused one with its reason, and the close with its duration,
// message count and why; a key without Trader or Auditor is refused.
func TestOrderEventsActivityAndRoles(t *testing.T) {
	ts := privateServer(t)
	rec := &recorded{}
	serverOf(t, ts).Activity = rec
	k := newKey(t, ts, "bob@example.com", `{"roles":"trader"}`)
	kc := client(ts, k)
	c := dial(t, ts, "/v1/order/events", orderEventsHeader(t, kc))
	next(t, c, 5*time.Second)
	next(t, c, 5*time.Second)
	if a, ok := rec.find("GET", "/v1/order/events"); !ok || a.Reason != "" || a.Status != 101 || !a.Authenticated || a.KeyID != k.Key {
		t.Fatalf("upgrade record %+v %v", a, ok)
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.Close()
	var closed twinex.Activity
	for i := 0; i < 50; i++ {
		var ok bool
		if closed, ok = rec.find("CLOSE", "/v1/order/events"); ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if closed.Path != "/v1/order/events#messages=2" || closed.Reason != "client closed the connection" || closed.Latency <= 0 {
		t.Fatalf("close record %+v", closed)
	}
	h := orderEventsHeader(t, kc)
	h.Set("X-GEMINI-SIGNATURE", strings.Repeat("0", 96))
	websocket.DefaultDialer.Dial(wsURL(ts, "/v1/order/events"), h)
	rec.mu.Lock()
	last := rec.list[len(rec.list)-1]
	rec.mu.Unlock()
	if last.Method != "GET" || last.Reason != twinex.InvalidSignature || last.Status != 400 {
		t.Fatalf("refused upgrade record %+v", last)
	}

	f := newKey(t, ts, "carol@example.com", `{"roles":"fundmanager"}`)
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, "/v1/order/events"), orderEventsHeader(t, client(ts, f)))
	if err == nil || resp == nil || resp.StatusCode == 101 {
		t.Fatalf("fund manager key: %v %v", err, resp)
	}
}

// TestRepliesDoNotHoldOffAClose: a client that keeps the writer's replies
// queued (bad messages, each answered, each sent after a frame-delay
// fault) is still closed for its first bad message: the writer sends the
// replies it found and then looks at the close request.
func TestRepliesDoNotHoldOffAClose(t *testing.T) {
	ts, _ := faultServer(t)
	c := dial(t, ts, "/v2/marketdata", nil)
	addFault(t, ts, `{"public":true,"frame_delay":"200ms"}`)
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				done <- err
				return
			}
		}
	}()
	tick := time.NewTicker(40 * time.Millisecond) // 25 a second, under the message limit
	defer tick.Stop()
	deadline := time.After(6 * time.Second)
	for {
		select {
		case err := <-done:
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
				t.Fatalf("want a 1008 close, got %v", err)
			}
			return
		case <-deadline:
			t.Fatal("still open after 6 s of bad messages")
		case <-tick.C:
			c.WriteMessage(websocket.TextMessage, []byte(`nonsense`))
		}
	}
}
