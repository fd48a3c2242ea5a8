package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twinex/twinex/postgres/pgtest"
)

// The process-level tests on PostgreSQL (issue 15): each gets a schema of
// its own, and they skip when no PostgreSQL answers (fail in CI, which sets
// TWINEX_TEST_POSTGRES_REQUIRED=1).
var pg = pgtest.FromEnv(os.Getenv)

// lockedBuffer is a process's stderr, read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is one `twinex serve --store postgres://...` process.
type server struct {
	cmd    *exec.Cmd
	addr   string
	stderr *lockedBuffer
}

// startShared runs `twinex serve` on store, with the data directory dir
// (shared by the servers of a test: the admin token and the master key),
// short lease timings, and returns once it serves (as leader or standby).
func startShared(t *testing.T, bin, dir, store string) *server {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", dir, "--mode", "production",
		"--store", store, "--lease-ttl", "1s", "--lease-every", "250ms", "--rate-private", "off")
	cmd.Env = append(os.Environ(), "TWINEX_STORE=") // the flag, not the caller's environment
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "Twinex is serving on http://"); ok {
				lines <- strings.Fields(addr)[0]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s.addr = <-lines:
		return s
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start; stderr:\n%s", s.stderr.String())
	}
	return nil
}

// health is a server's /healthz.
type health struct {
	Status, Store, Role, Leader, Holder string
}

func (s *server) health() (health, error) {
	var h health
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + s.addr + "/healthz")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&h)
	return h, err
}

// waitRole waits until the server reports role, failing after limit.
func (s *server) waitRole(t *testing.T, role string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if h, err := s.health(); err == nil && h.Role == role {
			return
		}
		if time.Now().After(deadline) {
			h, err := s.health()
			t.Fatalf("server %s is not %s after %v: %+v %v\nstderr:\n%s", s.addr, role, limit, h, err, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPostgresStoreKeepsEverything: a server on PostgreSQL says so (the
// password redacted) in /healthz, takes signed orders, restarts on the same
// database with an empty data directory beside it (bar the admin token and
// master key), and has the user, the key, its nonce mark, the orders and
// the balances.
func TestPostgresStoreKeepsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	store := pg.Schema(t)
	// Trust authentication ignores the password: it is only there to be
	// redacted.
	store = strings.Replace(store, "postgres://postgres@", "postgres://postgres:s3cret@", 1)
	bin := buildBinary(t)
	dir := t.TempDir()
	s := startShared(t, bin, dir, store)
	h, err := s.health()
	if err != nil || h.Role != "leader" || !strings.HasPrefix(h.Store, "postgres://") || strings.Contains(h.Store, "s3cret") {
		t.Fatalf("healthz: %+v %v", h, err)
	}
	c := newTestClient(t, s.addr, dir)
	tr := newTrader(t, c, "pg@example.com")
	var acked []string
	for i := 0; i < 20; i++ {
		o, status, _ := tr.order(s.addr, fmt.Sprintf("keep-%d", i))
		if status != 200 {
			t.Fatalf("order %d: %d", i, status)
		}
		acked = append(acked, o.OrderID)
	}
	last := tr.last
	var before verifyResult
	c.must("GET", "/admin/v1/verify", nil, &before)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()

	s = startShared(t, bin, dir, store)
	s.waitRole(t, "leader", 10*time.Second)
	c = newTestClient(t, s.addr, dir)
	var after verifyResult
	c.must("GET", "/admin/v1/verify", nil, &after)
	if !after.OK || after.OpenOrders != before.OpenOrders || after.LastOrderID != before.LastOrderID || after.Supply["USD"] != before.Supply["USD"] {
		t.Fatalf("after the restart: %+v, before: %+v", after, before)
	}
	for _, id := range acked {
		var o orderResult
		c.must("GET", "/admin/v1/orders/"+id, nil, &o)
		if !o.IsLive {
			t.Errorf("order %s after the restart: %+v", id, o)
		}
	}
	if status, reason := last.send(t, s.addr); status != 400 || reason != "InvalidNonce" {
		t.Errorf("the last acknowledged order sent again after the restart: %d %s, want 400 InvalidNonce", status, reason)
	}
	if _, status, reason := tr.order(s.addr, "after"); status != 200 {
		t.Errorf("an order with a new nonce after the restart: %d %s", status, reason)
	}
}

// trader places signed orders with a counter-nonce key of its own.
type trader struct {
	t       *testing.T
	key     string
	secret  string
	account int64
	nonce   int64
	last    signedRequest // the last acknowledged order, to send again
	http    *http.Client
}

// newTrader makes a verified user with USD and a trader key.
func newTrader(t *testing.T, c *testClient, email string) *trader {
	var u struct {
		AccountID int64 `json:"account_id"`
	}
	c.must("POST", "/admin/v1/accounts", map[string]any{"email": email, "verified": true}, &u)
	c.must("POST", "/admin/v1/fund", map[string]any{"account_id": u.AccountID, "currency": "USD", "amount": "1000000"}, nil)
	var k struct {
		Key    string `json:"key"`
		Secret string `json:"secret"`
	}
	c.must("POST", "/admin/v1/keys", map[string]any{"email": email, "roles": "trader"}, &k)
	// A frozen leader holds requests until it wakes: the client gives up
	// first and tries the next server.
	return &trader{t: t, key: k.Key, secret: k.Secret, account: u.AccountID, nonce: time.Now().UnixMilli(), http: &http.Client{Timeout: 2 * time.Second}}
}

// placed is an order as its placing was answered.
type placed struct {
	OrderID       string `json:"order_id"`
	ClientOrderID string `json:"client_order_id"`
	IsLive        bool   `json:"is_live"`
}

// order sends a resting buy (0.01 BTC at 100 USD, which nothing sells at)
// with the next nonce to addr. Status 0: no answer.
func (tr *trader) order(addr, cid string) (placed, int, string) {
	tr.nonce++
	r := signRequest("/v1/order/new", tr.key, tr.secret, map[string]any{"nonce": strconv.FormatInt(tr.nonce, 10),
		"symbol": "btcusd", "amount": "0.01", "price": "100", "side": "buy", "type": "exchange limit", "client_order_id": cid})
	req, _ := http.NewRequest("POST", "http://"+addr+r.path, nil)
	req.Header.Set("X-GEMINI-APIKEY", r.key)
	req.Header.Set("X-GEMINI-PAYLOAD", r.payload)
	req.Header.Set("X-GEMINI-SIGNATURE", r.sig)
	var o placed
	resp, err := tr.http.Do(req)
	if err != nil {
		return o, 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		var e struct{ Reason string }
		json.Unmarshal(body, &e)
		return o, resp.StatusCode, e.Reason
	}
	if err := json.Unmarshal(body, &o); err != nil {
		return o, 0, ""
	}
	tr.last = r
	return o, 200, ""
}
