package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/ratelimit"
	"github.com/twinex/twinex/sqlite"
)

// servers remembers each test server's Server, for tests that adjust it.
var servers sync.Map

func serverOf(t testing.TB, ts *httptest.Server) *Server {
	v, ok := servers.Load(ts)
	if !ok {
		t.Fatal("not a test server")
	}
	return v.(*Server)
}

// privateServer is a full server with keys, for signed requests.
func privateServer(t testing.TB) *httptest.Server {
	t.Helper()
	db, err := sqlite.Open(t.TempDir() + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	hub := feed.New(twinex.DefaultMarkets(), nil)
	c, err := core.Open(context.Background(), core.Config{Store: db, Markets: twinex.DefaultMarkets(), OnCommit: hub.Publish})
	if err != nil {
		t.Fatal(err)
	}
	hub.Start(c)
	mk := make([]byte, 32)
	rand.Read(mk)
	sealer, err := auth.NewSealer(mk)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Core: c, Store: db, Accounts: db, Addresses: db, AdminToken: testToken,
		Keys: &keys.Service{Store: db, Sealer: sealer}, Feed: hub}
	ts := httptest.NewServer(s.Handler())
	servers.Store(ts, s)
	t.Cleanup(func() {
		servers.Delete(ts)
		hub.Close("test over")
		ts.Close()
		checkLedger(t, c)
		c.Close()
		db.Close()
	})
	return ts
}

// checkLedger runs the ledger invariant check on a test server's
// exchange, at the end of every test that moved money through it.
func checkLedger(t testing.TB, c *core.Core) {
	t.Helper()
	var cerr error
	if err := c.Inspect(context.Background(), func(x *engine.Exchange) { cerr = x.Check() }); err != nil {
		t.Errorf("ledger check: %v", err)
	} else if cerr != nil {
		t.Errorf("ledger check: %v", cerr)
	}
}

type testKey struct {
	Key    string `json:"key"`
	Secret string `json:"secret"`
}

// newKey creates a verified user with funds and a key with the given
// settings (a JSON object merged into the request).
func newKey(t testing.TB, ts *httptest.Server, email, settings string, funds ...string) testKey {
	t.Helper()
	if status, v := call(t, ts, "POST", "/admin/v1/accounts", `{"email":"`+email+`","verified":true}`); status != 200 && v["reason"] != AccountExists {
		t.Fatalf("create %s: %d %v", email, status, v)
	}
	for i := 0; i+1 < len(funds); i += 2 {
		if status, v := call(t, ts, "POST", "/admin/v1/fund", fmt.Sprintf(`{"email":%q,"currency":%q,"amount":%q}`, email, funds[i], funds[i+1])); status != 200 {
			t.Fatalf("fund: %d %v", status, v)
		}
	}
	body := map[string]any{"email": email}
	if settings != "" {
		json.Unmarshal([]byte(settings), &body)
	}
	b, _ := json.Marshal(body)
	status, v := call(t, ts, "POST", "/admin/v1/keys", string(b))
	if status != 200 {
		t.Fatalf("create key %s: %d %v", b, status, v)
	}
	return testKey{Key: v["key"].(string), Secret: v["secret"].(string)}
}

func client(ts *httptest.Server, k testKey, opts ...gemini.Option) *gemini.Client {
	return gemini.New(ts.URL, k.Key, k.Secret, opts...)
}

func TestTradingThroughTheGoClient(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	alice := client(ts, newKey(t, ts, "alice@example.com", `{"roles":"trader"}`, "USD", "100000"))
	bob := client(ts, newKey(t, ts, "bob@example.com", `{"roles":"trader,fundmanager"}`, "BTC", "2"))

	roles, err := bob.Roles(ctx)
	if err != nil || !roles.IsTrader || !roles.IsFundManager || roles.IsAuditor {
		t.Fatalf("roles %+v %v", roles, err)
	}
	sell, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "BTCUSD", Amount: "0.5", Price: "30000", Side: "sell", ClientOrderID: "s-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !sell.IsLive || sell.Symbol != "btcusd" || sell.ClientOrderID != "s-1" || sell.OrderID == "" {
		t.Fatalf("sell %+v", sell)
	}
	buy, err := alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.2", Price: "30000.00", Side: "buy", Options: []string{"immediate-or-cancel"}})
	if err != nil {
		t.Fatal(err)
	}
	if buy.IsLive || buy.IsCancelled || buy.ExecutedAmount != "0.2" || buy.AvgExecutionPrice != "30000.00" {
		t.Fatalf("buy %+v", buy)
	}
	bals, err := alice.Balances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range bals {
		got[b.Currency] = string(b.Available)
	}
	// 100000 - 6000 - 21 (35 bps taker fee).
	if got["USD"] != "93979" || got["BTC"] != "0.2" {
		t.Fatalf("alice's balances %v", got)
	}
	trades, err := alice.MyTrades(ctx, gemini.MyTradesOptions{Symbol: "btcusd"})
	if err != nil || len(trades) != 1 || trades[0].Type != "Buy" || !trades[0].Aggressor || trades[0].FeeAmount != "21" || trades[0].OrderID != buy.OrderID {
		t.Fatalf("mytrades %+v %v", trades, err)
	}
	open, err := bob.ActiveOrders(ctx)
	if err != nil || len(open) != 1 || open[0].RemainingAmount != "0.3" {
		t.Fatalf("active orders %+v %v", open, err)
	}
	st, err := bob.OrderStatus(ctx, gemini.OrderStatusRequest{ClientOrderID: "s-1", IncludeTrades: true})
	if err != nil || st.OrderID != sell.OrderID || len(st.Trades) != 1 {
		t.Fatalf("status by client id %+v %v", st, err)
	}
	c1, err := bob.CancelOrder(ctx, sell.OrderID)
	if err != nil || !c1.IsCancelled || c1.Reason != "Requested" {
		t.Fatalf("cancel %+v %v", c1, err)
	}
	// Cancelling it again answers with the same cancelled order.
	c2, err := bob.CancelOrder(ctx, sell.OrderID)
	if err != nil || !c2.IsCancelled || c2.OrderID != sell.OrderID {
		t.Fatalf("second cancel %+v %v", c2, err)
	}
	// Another account's order is not found.
	if _, err := alice.CancelOrder(ctx, sell.OrderID); !gemini.IsReason(err, "OrderNotFound") {
		t.Fatalf("cancel of another account's order: %v", err)
	}
	if _, err := alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "100", Price: "30000", Side: "buy"}); !gemini.IsReason(err, "InsufficientFunds") {
		t.Fatalf("order beyond funds: %v", err)
	}
	var apiErr *gemini.APIError
	_, err = alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "dogeusd", Amount: "1", Price: "1", Side: "buy"})
	if !asAPIError(err, &apiErr) || apiErr.Reason != "InvalidSymbol" || apiErr.Status != 400 {
		t.Fatalf("unknown symbol: %v", err)
	}
}

func asAPIError(err error, target **gemini.APIError) bool {
	for e := err; e != nil; {
		if a, ok := e.(*gemini.APIError); ok {
			*target = a
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// rawSigned sends a signed request built by hand.
func rawSigned(t *testing.T, ts *httptest.Server, path string, k testKey, payload string, header map[string]string) (int, map[string]any) {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString([]byte(payload))
	req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(`{"ignored":"body"}`))
	req.Header.Set("X-GEMINI-APIKEY", k.Key)
	req.Header.Set("X-GEMINI-PAYLOAD", b64)
	req.Header.Set("X-GEMINI-SIGNATURE", auth.Sign(k.Secret, b64))
	for h, v := range header {
		if v == "" {
			req.Header.Del(h)
		} else {
			req.Header.Set(h, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v map[string]any
	json.Unmarshal(data, &v)
	return resp.StatusCode, v
}

func TestAuthenticationFailures(t *testing.T) {
	ts := privateServer(t)
	trader := newKey(t, ts, "t@example.com", `{"roles":"trader"}`, "USD", "1000")
	auditor := newKey(t, ts, "t@example.com", `{"roles":"auditor"}`)
	allowed := newKey(t, ts, "t@example.com", `{"roles":"trader","ip":["10.9.8.7","2001:db8::/32"]}`)
	timed := newKey(t, ts, "t@example.com", `{"roles":"trader","time_nonce":true}`)
	nonce := time.Now().UnixMilli()
	next := func() int64 { nonce++; return nonce }
	pl := func(path string, extra string) string {
		return fmt.Sprintf(`{"request":%q,"nonce":"%d"%s}`, path, next(), extra)
	}
	expect := func(name string, status int, v map[string]any, wantStatus int, reason string) {
		t.Helper()
		if status != wantStatus || v["result"] != "error" || v["reason"] != reason {
			t.Errorf("%s: %d %v, want %d %s", name, status, v, wantStatus, reason)
		}
	}
	st, v := rawSigned(t, ts, "/v1/balances", trader, pl("/v1/balances", ""), map[string]string{"X-GEMINI-APIKEY": ""})
	expect("no key", st, v, 401, twinex.MissingApikeyHeader)
	st, v = rawSigned(t, ts, "/v1/balances", trader, pl("/v1/balances", ""), map[string]string{"X-GEMINI-PAYLOAD": ""})
	expect("no payload", st, v, 400, twinex.MissingPayloadHeader)
	st, v = rawSigned(t, ts, "/v1/balances", trader, pl("/v1/balances", ""), map[string]string{"X-GEMINI-SIGNATURE": ""})
	expect("no signature", st, v, 400, twinex.MissingSignatureHeader)
	st, v = rawSigned(t, ts, "/v1/balances", trader, pl("/v1/balances", ""), map[string]string{"X-GEMINI-SIGNATURE": strings.Repeat("ab", 48)})
	expect("forged signature", st, v, 400, twinex.InvalidSignature)
	st, v = rawSigned(t, ts, "/v1/balances", testKey{Key: "account-AAAAAAAAAAAAAAAAAAAA", Secret: "x"}, pl("/v1/balances", ""), nil)
	expect("unknown key", st, v, 400, twinex.InvalidSignature)
	st, v = rawSigned(t, ts, "/v1/balances", trader, "not json", nil)
	expect("payload not JSON", st, v, 400, twinex.InvalidJson)
	st, v = rawSigned(t, ts, "/v1/balances", trader, pl("/v1/orders", ""), nil)
	expect("path mismatch", st, v, 400, twinex.EndpointMismatch)
	st, v = rawSigned(t, ts, "/v1/balances", trader, `{"request":"/v1/balances"}`, nil)
	expect("no nonce", st, v, 400, twinex.MissingNonce)

	replay := pl("/v1/balances", "")
	if st, v = rawSigned(t, ts, "/v1/balances", trader, replay, nil); st != 200 {
		t.Fatalf("first use: %d %v", st, v)
	}
	st, v = rawSigned(t, ts, "/v1/balances", trader, replay, nil)
	expect("replayed nonce", st, v, 400, twinex.InvalidNonce)
	st, v = rawSigned(t, ts, "/v1/balances", trader, fmt.Sprintf(`{"request":"/v1/balances","nonce":%d}`, nonce-5), nil)
	expect("lower nonce", st, v, 400, twinex.InvalidNonce)

	st, v = rawSigned(t, ts, "/v1/order/new", auditor, pl("/v1/order/new", `,"symbol":"btcusd","amount":"1","price":"1","side":"buy","type":"exchange limit"`), nil)
	expect("auditor places an order", st, v, 403, twinex.MissingRole)
	if msg, _ := v["message"].(string); !strings.Contains(msg, "[Trader]") || !strings.Contains(msg, auditor.Key) {
		t.Errorf("MissingRole message %q", msg)
	}
	// An account key may name its own account (Gemini's SDK always sends
	// "account" to /v1/balances); any other name is refused.
	if st, v = rawSigned(t, ts, "/v1/balances", trader, pl("/v1/balances", `,"account":"primary"`), nil); st != 200 {
		t.Fatalf("account key naming its own account: %d %v", st, v)
	}
	if st, v = rawSigned(t, ts, "/v1/balances", trader, pl("/v1/balances", `,"account":""`), nil); st != 200 {
		t.Fatalf("account key with an empty account (the SDK's default): %d %v", st, v)
	}
	st, v = rawSigned(t, ts, "/v1/balances", trader, pl("/v1/balances", `,"account":"other"`), nil)
	expect("account field naming another account on an account key", st, v, 400, twinex.AccountsOnGroupOnlyApi)
	st, v = rawSigned(t, ts, "/v1/roles", trader, pl("/v1/roles", `,"account":"primary"`), nil)
	expect("account field on a group endpoint with an account key", st, v, 400, twinex.AccountsOnGroupOnlyApi)

	st, v = rawSigned(t, ts, "/v1/balances", allowed, pl("/v1/balances", ""), nil)
	expect("outside the allowlist", st, v, 403, twinex.RemoteAddressForbidden)
	st, v = rawSigned(t, ts, "/v1/balances", allowed, pl("/v1/balances", ""), map[string]string{"X-Forwarded-For": "10.9.8.7"})
	expect("spoofed X-Forwarded-For", st, v, 403, twinex.RemoteAddressForbidden)
	// A refused request from outside the allowlist does not move the key's
	// nonce mark: a huge nonce sent from elsewhere cannot lock the owner out.
	st, v = rawSigned(t, ts, "/v1/balances", allowed, `{"request":"/v1/balances","nonce":"99999999999999999999999"}`, nil)
	expect("huge nonce from outside the allowlist", st, v, 403, twinex.RemoteAddressForbidden)

	st, v = rawSigned(t, ts, "/v1/balances", timed, fmt.Sprintf(`{"request":"/v1/balances","nonce":%d}`, time.Now().UnixMilli()), nil)
	expect("milliseconds on a time-based key", st, v, 400, twinex.InvalidNonce)
	if st, v = rawSigned(t, ts, "/v1/balances", timed, fmt.Sprintf(`{"request":"/v1/balances","nonce":%d}`, time.Now().Unix()), nil); st != 200 {
		t.Fatalf("time-based nonce in seconds: %d %v", st, v)
	}
	// Time-based keys may repeat a nonce within the window (parallel requests).
	if st, v = rawSigned(t, ts, "/v1/balances", timed, fmt.Sprintf(`{"request":"/v1/balances","nonce":%d}`, time.Now().Unix()), nil); st != 200 {
		t.Fatalf("time-based nonce again: %d %v", st, v)
	}

	// An absurd nonce, beyond the current time in nanoseconds, is refused
	// and leaves the mark alone (it would lock the key out for good).
	st, v = rawSigned(t, ts, "/v1/balances", trader, `{"request":"/v1/balances","nonce":99999999999999999999999.5}`, nil)
	expect("absurd nonce", st, v, 400, twinex.InvalidNonce)
	st, v = rawSigned(t, ts, "/v1/balances", trader, `{"request":"/v1/balances","nonce":"1e99"}`, nil)
	expect("nonce 1e99", st, v, 400, twinex.InvalidNonce)
	if st, v = rawSigned(t, ts, "/v1/balances", trader, pl("/v1/balances", ""), nil); st != 200 {
		t.Fatalf("a millisecond nonce after the refused ones: %d %v", st, v)
	}
	// A decimal nonce in nanoseconds, as a JSON number, is fine if it is
	// higher (and raises the mark past every millisecond nonce).
	if st, v = rawSigned(t, ts, "/v1/balances", trader, fmt.Sprintf(`{"request":"/v1/balances","nonce":%d.5}`, time.Now().UnixNano()), nil); st != 200 {
		t.Fatalf("nanosecond decimal nonce: %d %v", st, v)
	}

	// Revocation takes effect on the next request.
	if st, v := call(t, ts, "POST", "/admin/v1/keys/revoke", `{"key":"`+trader.Key+`"}`); st != 200 {
		t.Fatalf("revoke: %d %v", st, v)
	}
	st, v = rawSigned(t, ts, "/v1/balances", trader, pl("/v1/balances", ""), nil)
	expect("revoked key", st, v, 400, twinex.InvalidSignature)
}

func TestRotationGraceAndUnverifiedUsers(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "r@example.com", `{"roles":"trader"}`)
	nonce := time.Now().UnixMilli()
	pl := func() string { nonce++; return fmt.Sprintf(`{"request":"/v1/balances","nonce":%d}`, nonce) }
	st, v := call(t, ts, "POST", "/admin/v1/keys/rotate", `{"key":"`+k.Key+`","grace":"1h"}`)
	if st != 200 || v["secret"] == k.Secret {
		t.Fatalf("rotate: %d %v", st, v)
	}
	fresh := testKey{Key: k.Key, Secret: v["secret"].(string)}
	for _, kk := range []testKey{k, fresh} {
		if st, v := rawSigned(t, ts, "/v1/balances", kk, pl(), nil); st != 200 {
			t.Fatalf("during the grace period: %d %v", st, v)
		}
	}
	// A rotation without grace retires the old secret at once.
	st, v = call(t, ts, "POST", "/admin/v1/keys/rotate", `{"key":"`+k.Key+`"}`)
	newest := testKey{Key: k.Key, Secret: v["secret"].(string)}
	if st, v := rawSigned(t, ts, "/v1/balances", fresh, pl(), nil); st != 400 || v["reason"] != twinex.InvalidSignature {
		t.Fatalf("old secret after a rotation without grace: %d %v", st, v)
	}
	if st, v := rawSigned(t, ts, "/v1/balances", newest, pl(), nil); st != 200 {
		t.Fatalf("new secret: %d %v", st, v)
	}

	call(t, ts, "POST", "/admin/v1/accounts", `{"email":"unverified@example.com"}`)
	if st, v := call(t, ts, "POST", "/admin/v1/keys", `{"email":"unverified@example.com","roles":"trader"}`); st != 400 || v["reason"] != IdentityNotVerified {
		t.Fatalf("key for an unverified user: %d %v", st, v)
	}
	for _, bad := range []string{
		`{"email":"r@example.com","roles":"auditor,trader"}`,
		`{"email":"r@example.com","roles":"administrator"}`,
		`{"email":"r@example.com","roles":"trader","ip":["10.0.0.1/8"]}`,
		`{"email":"r@example.com","roles":"wizard"}`,
	} {
		if st, v := call(t, ts, "POST", "/admin/v1/keys", bad); st != 400 {
			t.Errorf("%s: %d %v", bad, st, v)
		}
	}
}

func TestRateLimits(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "rl@example.com", `{"roles":"trader"}`)
	srv := serverOf(t, ts)
	srv.PublicLimit = ratelimit.New(ratelimit.Limit{Rate: 3, Per: time.Minute}) // the allowance at once, no queue
	srv.PrivateLimit = ratelimit.New(ratelimit.Limit{Rate: 1, Per: time.Minute})
	for i := 0; i < 3; i++ {
		if st, v := call(t, ts, "GET", "/v1/symbols", ""); st != 200 {
			t.Fatalf("public request %d: %d %v", i, st, v)
		}
	}
	resp, err := http.Get(ts.URL + "/v1/symbols")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth public request: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	nonce := time.Now().UnixMilli()
	pl := func() string { nonce++; return fmt.Sprintf(`{"request":"/v1/balances","nonce":%d}`, nonce) }
	if st, v := rawSigned(t, ts, "/v1/balances", k, pl(), nil); st != 200 {
		t.Fatalf("first private request: %d %v", st, v)
	}
	if st, v := rawSigned(t, ts, "/v1/balances", k, pl(), nil); st != 429 || v["reason"] != twinex.RateLimit {
		t.Fatalf("second private request: %d %v", st, v)
	}
}

// TestRateLimitQueue: past the allowance, Burst requests are held until
// the allowance refills and then answered; the next gets 429 with
// Retry-After. The server's clock is pinned, so the queued request's
// delay (one interval) is decided by the limiter, not by how fast the
// test runs; only its wait is real.
func TestRateLimitQueue(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "rq@example.com", `{"roles":"trader"}`)
	srv := serverOf(t, ts)
	now := time.Now()
	srv.Now = func() time.Time { return now }
	srv.PublicLimit = ratelimit.New(ratelimit.Limit{Rate: 2, Per: 100 * time.Millisecond, Burst: 1})
	srv.PrivateLimit = ratelimit.New(ratelimit.Limit{Rate: 1, Per: 50 * time.Millisecond, Burst: 2})
	for i := range 3 { // 2 at once, 1 queued for 50ms
		if st, v := call(t, ts, "GET", "/v1/symbols", ""); st != 200 {
			t.Fatalf("public request %d: %d %v", i+1, st, v)
		}
	}
	resp, err := http.Get(ts.URL + "/v1/symbols")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("public request past the queue: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	nonce := time.Now().UnixMilli()
	pl := func() string { nonce++; return fmt.Sprintf(`{"request":"/v1/balances","nonce":%d}`, nonce) }
	for i := range 3 { // 1 at once, 2 queued
		if st, v := rawSigned(t, ts, "/v1/balances", k, pl(), nil); st != 200 {
			t.Fatalf("private request %d: %d %v", i+1, st, v)
		}
	}
	if st, v := rawSigned(t, ts, "/v1/balances", k, pl(), nil); st != 429 || v["reason"] != twinex.RateLimit {
		t.Fatalf("private request past the queue: %d %v", st, v)
	}
}

func TestSilentHeartbeatKeyLosesItsOrders(t *testing.T) {
	ts := privateServer(t)
	srv := serverOf(t, ts)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	srv.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	// One client per key: each keeps its nonces increasing.
	k := client(ts, newKey(t, ts, "hb@example.com", `{"roles":"trader","heartbeat":true}`, "USD", "1000"))
	other := client(ts, newKey(t, ts, "hb@example.com", `{"roles":"trader"}`))
	ctx := context.Background()
	o, err := k.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: "100", Side: "buy"})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := other.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: "100", Side: "buy"})
	if err != nil {
		t.Fatal(err)
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go srv.RunHeartbeats(hctx)
	clock.Add(int64(31 * time.Second))
	for i := 0; ; i++ {
		st, err := other.OrderStatus(ctx, gemini.OrderStatusRequest{OrderID: o.OrderID})
		if err != nil {
			t.Fatal(err)
		}
		if st.IsCancelled {
			if st.Reason != twinex.ReasonHeartbeatExpired {
				t.Fatalf("cancel reason %q", st.Reason)
			}
			break
		}
		if i == 100 {
			t.Fatal("the silent session's order was never cancelled")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The other key's session is untouched.
	if st, err := other.OrderStatus(ctx, gemini.OrderStatusRequest{OrderID: keep.OrderID}); err != nil || !st.IsLive {
		t.Fatalf("other session's order %+v %v", st, err)
	}
}

func TestTimeBasedKeysCannotReplayStateChanges(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "tn@example.com", `{"roles":"trader","time_nonce":true}`, "USD", "1000")
	n := time.Now().Unix()
	order := fmt.Sprintf(`{"request":"/v1/order/new","nonce":%d,"symbol":"btcusd","amount":"0.01","price":"100","side":"buy","type":"exchange limit"}`, n)
	if st, v := rawSigned(t, ts, "/v1/order/new", k, order, nil); st != 200 {
		t.Fatalf("first order: %d %v", st, v)
	}
	if st, v := rawSigned(t, ts, "/v1/order/new", k, order, nil); st != 400 || v["reason"] != twinex.InvalidNonce {
		t.Fatalf("replayed order: %d %v", st, v)
	}
	// Another order in the same second, with its own payload, is fine.
	other := strings.Replace(order, `"0.01"`, `"0.02"`, 1)
	if st, v := rawSigned(t, ts, "/v1/order/new", k, other, nil); st != 200 {
		t.Fatalf("second order in the same second: %d %v", st, v)
	}
	// Reads may repeat.
	read := fmt.Sprintf(`{"request":"/v1/balances","nonce":%d}`, n)
	for i := 0; i < 2; i++ {
		if st, v := rawSigned(t, ts, "/v1/balances", k, read, nil); st != 200 {
			t.Fatalf("read %d: %d %v", i, st, v)
		}
	}
}

func TestLimitKeyGroupsIPv6By64(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":                 "203.0.113.7",
		"::ffff:203.0.113.7":          "203.0.113.7",
		"2001:db8:1:2:aaaa::1":        "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::abc": "2001:db8:1:2::/64",
	} {
		if got := limitKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("limitKey(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestRateLimitConcurrent: 20 public requests at once from one address
// under 10/1s+5: 10 answered at once, 5 after waiting in the queue, 5
// refused with 429. The clock is pinned; only the queue's waits are real.
func TestRateLimitConcurrent(t *testing.T) {
	ts := privateServer(t)
	srv := serverOf(t, ts)
	now := time.Now()
	srv.Now = func() time.Time { return now }
	srv.PublicLimit = ratelimit.New(ratelimit.Limit{Rate: 10, Per: time.Second, Burst: 5})
	codes := make(chan int, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := http.Get(ts.URL + "/v1/symbols")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[200] != 15 || count[429] != 5 {
		t.Fatalf("answers %v, want 15 OK and 5 refused", count)
	}
}
