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
		"--store", store, "--lease-ttl", "3s", "--lease-every", "250ms", "--rate-private", "off")
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

// storeKeepsEverything: a server on PostgreSQL says so (the password
// redacted) in /healthz, takes signed orders, restarts on the same database
// and has the user, the key, its nonce mark, the orders and the balances.
func storeKeepsEverything(t *testing.T, bin string) {
	store := pg.Schema(t)
	// Trust authentication ignores the password: it is only there to be
	// redacted.
	store = strings.Replace(store, "postgres://postgres@", "postgres://postgres:s3cret@", 1)
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

// migrateFromSQLite: a SQLite installation killed under load (so that its
// journal holds acknowledged commands) is copied with admin migrate into an
// empty schema; a server on that schema has every acknowledged order, the
// keys work with their nonce marks kept, and the ledger check passes.
func migrateFromSQLite(t *testing.T, bin string) {
	store, dir := pg.Schema(t), t.TempDir()
	cmd, addr := startBinary(t, bin, dir)
	c := newTestClient(t, addr, dir)
	ts := traders(t, c, 2)
	l := runLoad(ts, addr)
	l.waitAcks(t, 50, addr, time.Time{}, 20*time.Second)
	l.halt()
	// The activity log is written behind the requests: wait for its
	// records, so that they are copied too.
	var logged []json.RawMessage
	for deadline := time.Now().Add(20 * time.Second); len(logged) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no activity records were written")
		}
		c.do("GET", "/admin/v1/activity?email=trader0@example.com", nil, &logged)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	out, err := exec.Command(bin, "admin", "migrate", "--from", "sqlite:"+dir, "--to", store).CombinedOutput()
	if err != nil {
		t.Fatalf("admin migrate: %v\n%s", err, out)
	}
	var rep struct {
		OK   bool
		Rows map[string]int64
	}
	if err := json.Unmarshal(out, &rep); err != nil || !rep.OK || rep.Rows["orders"] < 50 || rep.Rows["api_keys"] != 2 || rep.Rows["activity"] < int64(len(logged)) {
		t.Fatalf("admin migrate's report: %+v %v\n%s", rep, err, out)
	}
	// Into a schema that is no longer empty it refuses.
	if out, err := exec.Command(bin, "admin", "migrate", "--from", "sqlite:"+dir, "--to", store).CombinedOutput(); err == nil || !strings.Contains(string(out), "not empty") {
		t.Errorf("a second migrate into the same schema: %v\n%s", err, out)
	}
	s := startShared(t, bin, dir, store)
	s.waitRole(t, "leader", 10*time.Second)
	pc := newTestClient(t, s.addr, dir)
	n := checkAcknowledged(t, pc, s.addr, l, ts)
	var copied []json.RawMessage
	pc.must("GET", "/admin/v1/activity?email=trader0@example.com", nil, &copied)
	if len(copied) < len(logged) {
		t.Errorf("%d activity records of trader0 on PostgreSQL, %d seen on SQLite", len(copied), len(logged))
	}
	if _, status, reason := ts[0].order(s.addr, "after-migrate"); status != 200 {
		t.Errorf("an order after the migration: %d %s", status, reason)
	}
	t.Logf("migrated: %d orders acknowledged on SQLite, %d present on PostgreSQL; rows %v", len(l.acks), n, rep.Rows)
}
