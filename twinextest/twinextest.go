// Package twinextest starts an in-process Twinex for one Go test, the way
// net/http/httptest starts an HTTP server: a sandbox exchange on
// 127.0.0.1 with its data in t.TempDir(), an admin client, and funded API
// keys, closed when the test ends.
//
//	func TestMyBot(t *testing.T) {
//		tx := twinextest.New(t, twinextest.WithSeed(3))
//		c := tx.Keys[0].Client()           // a *gemini.Client on a funded Trader key
//		o, err := c.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", ...})
//		...
//		if err := tx.Admin.SetMarketStatus("btcusd", "cancel_only"); err != nil { ... }
//	}
//
// By default the market simulator runs (seed 1) without backfilled
// history, rate limits are off, and one Trader key is funded with 100,000
// USD and 10 BTC; options change each of these. Start-up takes about 0.2 s
// (measured on a shared 2-core machine; TestExampleBot logs it).
package twinextest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex/app"
	"github.com/twinex/twinex/fault"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/ratelimit"
)

// Server is a running Twinex for one test.
type Server struct {
	URL   string   // http://127.0.0.1:PORT, the Gemini API and the dashboard
	Admin *Admin   // the admin API
	Keys  []Key    // the funded keys, in the order of the options
	App   *app.App // the server itself, for what the helpers do not cover
	t     testing.TB
}

// Key is a funded API key.
type Key struct {
	Email  string // its owner
	ID     string // account-...
	Secret string
	url    string
}

// Client returns a Gemini client on the key.
func (k Key) Client(opts ...gemini.Option) *gemini.Client {
	return gemini.New(k.url, k.ID, k.Secret, opts...)
}

type config struct {
	sim      bool
	seed     uint64
	backfill time.Duration
	scenario string
	faults   []fault.Spec
	keys     []keySpec
	limits   bool
	logger   *slog.Logger
}

type keySpec struct {
	roles string
	funds []string // currency, amount, ...
}

// Option configures New.
type Option func(*config)

// WithSim turns the market simulator on (the default) or off (empty,
// quiet books: only your own orders trade).
func WithSim(on bool) Option { return func(c *config) { c.sim = on } }

// WithSeed seeds the simulator (default 1).
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithBackfill writes d of market history before the first request (as
// `serve --backfill`); it costs about 0.3 s for a day.
func WithBackfill(d time.Duration) Option { return func(c *config) { c.backfill = d } }

// WithScenario plays a scenario file, or a shipped example by name
// ("flash-crash", "halt-and-reopen", "slow-bleed"), from the start.
func WithScenario(fileOrName string) Option { return func(c *config) { c.scenario = fileOrName } }

// WithFaults adds fault rules from the start (as in faults.json).
func WithFaults(rules ...fault.Spec) Option {
	return func(c *config) { c.faults = append(c.faults, rules...) }
}

// WithKey adds a key with the given roles ("trader", "trader,fundmanager",
// ...) whose account is funded with currency/amount pairs, e.g.
// WithKey("trader", "USD", "5000", "ETH", "2"). The first WithKey replaces
// the default key.
func WithKey(roles string, funds ...string) Option {
	return func(c *config) { c.keys = append(c.keys, keySpec{roles: roles, funds: funds}) }
}

// WithRateLimits applies Gemini's rate limits (120 public requests a
// minute per address, 600 signed a minute per key, then 5 queued), which
// are off by default.
func WithRateLimits() Option { return func(c *config) { c.limits = true } }

// WithLogger sends the server's log to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// New starts a Twinex for t and stops it when the test ends. It fails the
// test if the server cannot start.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{sim: true, seed: 1}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.keys) == 0 {
		cfg.keys = []keySpec{{roles: "trader", funds: []string{"USD", "100000", "BTC", "10"}}}
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	dir := t.TempDir()
	if len(cfg.faults) > 0 {
		b, err := json.Marshal(cfg.faults)
		if err != nil {
			t.Fatalf("twinextest: faults: %v", err)
		}
		if err := writeFile(dir+"/faults.json", b); err != nil {
			t.Fatalf("twinextest: %v", err)
		}
	}
	a := &app.App{Listen: "127.0.0.1:0", DataDir: dir, Logger: cfg.logger, Sim: cfg.sim, SimSeed: cfg.seed,
		Backfill: cfg.backfill, Scenario: cfg.scenario, ApprovalWait: -1}
	if cfg.limits {
		a.PublicLimit, a.PrivateLimit = ratelimit.GeminiPublic(), ratelimit.GeminiPrivate()
	}
	if err := a.Open(context.Background()); err != nil {
		t.Fatalf("twinextest: start: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	s := &Server{URL: "http://" + a.Addr(), App: a, t: t}
	s.Admin = &Admin{url: s.URL, token: a.AdminToken(), http: &http.Client{Timeout: 30 * time.Second}}
	for i, k := range cfg.keys {
		s.Keys = append(s.Keys, s.NewKey(t, fmt.Sprintf("bot%d@twinextest.local", i+1), k.roles, k.funds...))
	}
	return s
}

// NewKey creates a verified user (if needed) with a key of roles, funds
// its primary account with currency/amount pairs, and returns the key.
func (s *Server) NewKey(t testing.TB, email, roles string, funds ...string) Key {
	t.Helper()
	if _, err := s.Admin.Do("POST", "/admin/v1/accounts", map[string]any{"email": email, "verified": true}); err != nil && !strings.Contains(err.Error(), "AccountExists") {
		t.Fatalf("twinextest: create %s: %v", email, err)
	}
	for i := 0; i+1 < len(funds); i += 2 {
		if err := s.Admin.Fund(email, funds[i], funds[i+1]); err != nil {
			t.Fatalf("twinextest: fund %s: %v", email, err)
		}
	}
	out, err := s.Admin.Do("POST", "/admin/v1/keys", map[string]any{"email": email, "roles": roles})
	if err != nil {
		t.Fatalf("twinextest: key for %s: %v", email, err)
	}
	var k struct{ Key, Secret string }
	if err := json.Unmarshal(out, &k); err != nil || k.Key == "" {
		t.Fatalf("twinextest: key for %s: %s", email, out)
	}
	return Key{Email: email, ID: k.Key, Secret: k.Secret, url: s.URL}
}

// Admin is a client of the admin API (/admin/v1).
type Admin struct {
	url, token string
	http       *http.Client
}

// Do sends a request with a JSON body (nil for none) and returns the
// response body; an error status becomes an error carrying the body.
func (a *Admin) Do(method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(out))
	}
	return out, nil
}

// Fund deposits amount of currency into the primary account of email.
func (a *Admin) Fund(email, currency, amount string) error {
	_, err := a.Do("POST", "/admin/v1/fund", map[string]any{"email": email, "currency": currency, "amount": amount})
	return err
}

// SetPrice jumps a simulated market's reference price.
func (a *Admin) SetPrice(symbol, price string) error {
	_, err := a.Do("POST", "/admin/v1/sandbox/price", map[string]any{"symbol": symbol, "price": price})
	return err
}

// SetMarketStatus sets a market's status (open, closed, cancel_only,
// post_only, limit_only).
func (a *Admin) SetMarketStatus(symbol, status string) error {
	_, err := a.Do("POST", "/admin/v1/markets/"+symbol+"/status", map[string]any{"status": status})
	return err
}

// AddFault adds a fault rule and returns its id.
func (a *Admin) AddFault(rule fault.Spec) (string, error) {
	out, err := a.Do("POST", "/admin/v1/faults", rule)
	if err != nil {
		return "", err
	}
	var r fault.Spec
	err = json.Unmarshal(out, &r)
	return r.ID, err
}

// RunScenario plays a scenario file's content (see package scenario).
func (a *Admin) RunScenario(file []byte) error {
	_, err := a.Do("POST", "/admin/v1/sandbox/scenario", json.RawMessage(file))
	return err
}

// Verify runs the ledger invariant check and returns an error if it
// fails.
func (a *Admin) Verify() error {
	out, err := a.Do("GET", "/admin/v1/verify", nil)
	if err != nil {
		return err
	}
	var v struct{ OK bool }
	if err := json.Unmarshal(out, &v); err != nil || !v.OK {
		return fmt.Errorf("ledger check failed: %s", out)
	}
	return nil
}

func writeFile(path string, data []byte) error {
	return os.WriteFile(path, data, 0o600)
}
