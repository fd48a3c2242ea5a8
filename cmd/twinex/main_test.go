package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex/app"
)

// testClient calls a server's admin API.
type testClient struct {
	t     *testing.T
	base  string
	token string
	http  *http.Client
}

func newTestClient(t *testing.T, addr, dataDir string) *testClient {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	return &testClient{t: t, base: "http://" + addr, token: strings.TrimSpace(string(tok)), http: &http.Client{Timeout: 10 * time.Second}}
}

// do sends a request and decodes the JSON answer into out; it returns the
// HTTP status, or an error when no answer arrived.
func (c *testClient) do(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", data, err)
		}
	}
	return resp.StatusCode, nil
}

// must is do that fails the test unless the answer is 200.
func (c *testClient) must(method, path string, body, out any) {
	c.t.Helper()
	status, err := c.do(method, path, body, out)
	if err != nil || status != http.StatusOK {
		c.t.Fatalf("%s %s: status %d, %v", method, path, status, err)
	}
}

type verifyResult struct {
	OK          bool              `json:"ok"`
	OpenOrders  int               `json:"open_orders"`
	LastOrderID int64             `json:"last_order_id"`
	LastTradeID int64             `json:"last_trade_id"`
	Supply      map[string]string `json:"supply"`
	Violations  []string          `json:"violations"`
}

type orderResult struct {
	OrderID     string `json:"order_id"`
	AccountID   int64  `json:"account_id"`
	IsLive      bool   `json:"is_live"`
	IsCancelled bool   `json:"is_cancelled"`
	Original    string `json:"original_amount"`
	Executed    string `json:"executed_amount"`
	Price       string `json:"price"`
}

func TestServeRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	m := &Main{Listen: "127.0.0.1:0", DataDir: dir, Mode: app.Production}
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, m.Addr(), dir)
	resp, err := http.Get("http://" + m.Addr() + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	for i := 1; i <= 3; i++ { // accounts 100, 101 and 102
		c.must("POST", "/admin/v1/accounts", map[string]any{"email": fmt.Sprintf("user%d@example.com", i), "verified": true}, nil)
	}
	c.must("POST", "/admin/v1/fund", map[string]any{"account_id": 100, "currency": "USD", "amount": "5000"}, nil)
	c.must("POST", "/admin/v1/fund", map[string]any{"account_id": 101, "currency": "BTC", "amount": 1}, nil)
	var sell, stop orderResult
	c.must("POST", "/admin/v1/orders", map[string]any{"account_id": 101, "symbol": "btcusd", "side": "sell", "price": "1000", "amount": "0.5"}, &sell)
	c.must("POST", "/admin/v1/orders", map[string]any{"account_id": 100, "symbol": "btcusd", "side": "buy", "price": "1000", "amount": "0.1"}, nil)
	c.must("POST", "/admin/v1/orders", map[string]any{"account_id": 100, "symbol": "btcusd", "side": "buy", "type": "exchange stop limit", "stop_price": "1100", "price": "1200", "amount": "0.2"}, &stop)
	var before verifyResult
	c.must("GET", "/admin/v1/verify", nil, &before)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := &Main{Listen: "127.0.0.1:0", DataDir: dir, Mode: app.Production}
	if err := m2.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	c = newTestClient(t, m2.Addr(), dir)
	var after verifyResult
	c.must("GET", "/admin/v1/verify", nil, &after)
	if !after.OK || after.OpenOrders != 2 || after.LastOrderID != before.LastOrderID || after.LastTradeID != 1 {
		t.Fatalf("after restart %+v, before %+v", after, before)
	}
	var got orderResult
	c.must("GET", "/admin/v1/orders/"+sell.OrderID, nil, &got)
	if !got.IsLive || got.Executed != "0.1" {
		t.Fatalf("resting sell after restart: %+v", got)
	}
	// The stop is still pending: once a trade prints at 1100 it triggers
	// and buys 0.2 of the sell resting at 1100.
	c.must("POST", "/admin/v1/fund", map[string]any{"account_id": 102, "currency": "USD", "amount": "5000"}, nil)
	c.must("POST", "/admin/v1/orders", map[string]any{"account_id": 102, "symbol": "btcusd", "side": "buy", "price": "1000", "amount": "0.4"}, nil)
	c.must("POST", "/admin/v1/orders", map[string]any{"account_id": 101, "symbol": "btcusd", "side": "sell", "price": "1100", "amount": "0.3"}, nil)
	c.must("GET", "/admin/v1/orders/"+stop.OrderID, nil, &got)
	if !got.IsLive || got.Executed != "0" {
		t.Fatalf("pending stop after restart: %+v", got)
	}
	var next orderResult
	c.must("POST", "/admin/v1/orders", map[string]any{"account_id": 102, "symbol": "btcusd", "side": "buy", "price": "1100", "amount": "0.1"}, &next)
	c.must("GET", "/admin/v1/orders/"+stop.OrderID, nil, &got)
	if got.Executed != "0.2" {
		t.Fatalf("stop after restart and trigger: %+v", got)
	}
	if n, _ := strconv.ParseInt(next.OrderID, 10, 64); n <= before.LastOrderID {
		t.Fatalf("order id %s after restart is not above %d", next.OrderID, before.LastOrderID)
	}
	c.must("GET", "/admin/v1/verify", nil, &after)
	if !after.OK {
		t.Fatalf("verify: %+v", after)
	}
}

// buildBinary builds the twinex binary for tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "twinex")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary runs `twinex serve` on a free port and returns the process and
// its address, read from the start-up banner.
func startBinary(t *testing.T, bin, dir string) (*exec.Cmd, string) {
	t.Helper()
	// Production mode: no demo account, so ids and supplies are the test's.
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", dir, "--mode", "production")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
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
	case addr := <-lines:
		return cmd, addr
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start; stderr:\n%s", stderr.String())
	}
	return nil, ""
}
