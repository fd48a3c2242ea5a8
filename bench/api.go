package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinex/twinex/app"
	"github.com/twinex/twinex/gemini"
)

// APIConfig configures the API benchmark.
type APIConfig struct {
	Duration time.Duration // per phase (default 10s)
	Conns    int           // concurrent connections (default 32)
	// URL targets a running server instead of starting one; Token is then
	// its admin token. The server's key rate limits must allow the load.
	URL, Token string
	// PID, with URL, is the server's process: its CPU time over the
	// order phase, divided by the signed requests, is
	// server_cpu_us_per_request (Linux; /proc/PID/stat).
	PID int
	// Pprof, with URL, is the server's --pprof-listen address
	// (http://host:port): over the order phase the benchmark takes the
	// server's CPU, mutex and block profiles and writes them to
	// ProfilePrefix + "cpu.pprof", "mutex.pprof" and "block.pprof".
	Pprof, ProfilePrefix string
}

// APIResult is the API benchmark's figures.
type APIResult struct {
	OrdersPerSec   float64 `json:"orders_per_sec"`
	OrderP50ms     float64 `json:"order_p50_ms"`
	OrderP99ms     float64 `json:"order_p99_ms"`
	TickerPerSec   float64 `json:"ticker_per_sec"`
	BaselinePerSec float64 `json:"baseline_per_sec"`
	Errors         int64   `json:"errors"`
	Orders         int     `json:"orders"`
	Conns          int     `json:"conns"`
	// ServerCPUusPerRequest is the server's CPU time per signed request
	// (orders and cancels) over the order phase; only with --url and
	// --pid, when it does not count the loader.
	ServerCPUusPerRequest float64 `json:"server_cpu_us_per_request,omitempty"`
	// LoaderCPUusPerRequest is the loader's (this process's) CPU time per
	// signed request, with --url; when it nears the loader's cores, the
	// loader and not the server bounds the figures.
	LoaderCPUusPerRequest float64 `json:"loader_cpu_us_per_request,omitempty"`
	// TickerServerCPUusPerRequest is the server's CPU time per ticker
	// request over the ticker phase (with --pid): what net/http and the
	// server's middleware cost on this machine for the cheapest request,
	// the floor under server_cpu_us_per_request.
	TickerServerCPUusPerRequest float64 `json:"ticker_server_cpu_us_per_request,omitempty"`
}

// API runs the API benchmark: over loopback, each connection places a
// signed resting order through /v1/order/new and cancels it through
// /v1/order/cancel, with real HMAC signing and nonces, its own key (so
// nonces stay ordered) and durable group commit behind; then the same
// loader fetches /v1/pubticker/btcusd, and finally a bare net/http handler
// in this process, as the baseline the ticker is compared with.
func API(ctx context.Context, cfg APIConfig) (APIResult, error) { // long: one benchmark run in order: server, keys, signed load, ticker load, baseline
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 32
	}
	res := APIResult{Conns: cfg.Conns}
	base, token := cfg.URL, cfg.Token
	if base == "" {
		dir, err := os.MkdirTemp("", "twinex-bench-api-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		a := &app.App{Listen: "127.0.0.1:0", DataDir: dir} // zero limits: unlimited
		if err := a.Open(ctx); err != nil {
			return res, err
		}
		defer a.Close()
		base = "http://" + a.Addr()
		tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
		if err != nil {
			return res, err
		}
		token = strings.TrimSpace(string(tok))
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * cfg.Conns, MaxIdleConnsPerHost: 4 * cfg.Conns, IdleConnTimeout: time.Minute}}
	clients, err := provision(ctx, hc, base, token, cfg.Conns)
	if err != nil {
		return res, err
	}

	// Orders: place a resting bid far below any ask, then cancel it.
	order := gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.0001", Price: "1000.00", Side: "buy"}
	// One order and cancel per key first, and time for the activity log to
	// write them: a key's first request loads it, its plan and its account,
	// and its first address is noted for the alerts, once per key and
	// never again; the timed phase measures the steady state.
	var warm sync.WaitGroup
	warmErrs := make(chan error, len(clients))
	for _, c := range clients {
		warm.Add(1)
		go func() {
			defer warm.Done()
			o, err := c.NewOrder(ctx, order)
			if err == nil {
				_, err = c.CancelOrder(ctx, o.OrderID)
			}
			if err != nil {
				warmErrs <- err
			}
		}()
	}
	warm.Wait()
	close(warmErrs)
	if err := <-warmErrs; err != nil {
		return res, fmt.Errorf("bench: warm-up: %w", err)
	}
	time.Sleep(1500 * time.Millisecond)
	lat := make([][]int64, cfg.Conns)
	var errs atomic.Int64
	deadline := time.Now().Add(cfg.Duration)
	var wg sync.WaitGroup
	var cancels atomic.Int64
	cpu0, cpuErr := processCPU(cfg.PID)
	self0, selfErr := processCPU(os.Getpid())
	profiles := startProfiles(ctx, hc, cfg.Pprof, cfg.ProfilePrefix, cfg.Duration)
	start := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func(i int, c *gemini.Client) {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				o, err := c.NewOrder(ctx, order)
				if err != nil {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], int64(time.Since(t0)))
				if _, err := c.CancelOrder(ctx, o.OrderID); err != nil {
					errs.Add(1)
				} else {
					cancels.Add(1)
				}
			}
		}(i, c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := profiles(); err != nil {
		return res, err
	}
	n := int64(countLat(lat)) + cancels.Load()
	if cpu1, err := processCPU(cfg.PID); cfg.PID > 0 && cpuErr == nil && err == nil && n > 0 {
		res.ServerCPUusPerRequest = float64((cpu1 - cpu0).Microseconds()) / float64(n)
	}
	if self1, err := processCPU(os.Getpid()); cfg.URL != "" && selfErr == nil && err == nil && n > 0 {
		res.LoaderCPUusPerRequest = float64((self1 - self0).Microseconds()) / float64(n)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.Orders, res.Errors = len(all), errs.Load()
	if len(all) > 0 {
		res.OrdersPerSec = float64(len(all)) / elapsed.Seconds()
		res.OrderP50ms = float64(all[len(all)/2]) / 1e6
		res.OrderP99ms = float64(all[min(len(all)-1, len(all)*99/100)]) / 1e6
	}

	// The ticker, then the baseline: same loader, same connections.
	cpu0, cpuErr = processCPU(cfg.PID)
	tickStart := time.Now()
	tick, terrs := load(ctx, hc, base+"/v1/pubticker/btcusd", cfg.Conns, cfg.Duration)
	res.TickerPerSec, res.Errors = tick, res.Errors+terrs
	if cpu1, err := processCPU(cfg.PID); cfg.PID > 0 && cpuErr == nil && err == nil && tick > 0 {
		res.TickerServerCPUusPerRequest = float64((cpu1 - cpu0).Microseconds()) / (tick * time.Since(tickStart).Seconds())
	}
	body, _ := json.Marshal(map[string]any{"bid": "29999.99", "ask": "30000.01", "last": "30000.00",
		"volume": map[string]any{"BTC": "12.5", "USD": "375000", "timestamp": time.Now().UnixMilli()}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})}
	go bare.Serve(ln)
	defer bare.Close()
	baseline, berrs := load(ctx, hc, "http://"+ln.Addr().String()+"/v1/pubticker/btcusd", cfg.Conns, cfg.Duration)
	res.BaselinePerSec, res.Errors = baseline, res.Errors+berrs
	return res, nil
}

// profileNames are the server profiles the order phase takes, by their
// net/http/pprof path.
var profileNames = map[string]string{"cpu": "profile", "mutex": "mutex", "block": "block"}

// startProfiles starts taking the profiles of the server whose
// --pprof-listen is pprof over a measured phase of d (less a second for
// the requests' own round trips) into files named prefix + "cpu.pprof",
// ..., and returns a wait for them to be written.
func startProfiles(ctx context.Context, hc *http.Client, pprof, prefix string, d time.Duration) func() error {
	if pprof == "" {
		return func() error { return nil }
	}
	secs := max(int((d-time.Second)/time.Second), 1)
	var wg sync.WaitGroup
	errs := make(chan error, len(profileNames))
	for name, path := range profileNames {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// mutex and block take a delta over the seconds asked for.
			if err := fetchTo(ctx, hc, fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", strings.TrimSuffix(pprof, "/"), path, secs), prefix+name+".pprof"); err != nil {
				errs <- fmt.Errorf("bench: %s profile: %w", name, err)
			}
		}()
	}
	return func() error {
		wg.Wait()
		close(errs)
		return <-errs
	}
}

// fetchTo GETs url into the file path.
func fetchTo(ctx context.Context, hc *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// load GETs url from conns goroutines for d and returns requests per second
// and the number of failures.
func load(ctx context.Context, hc *http.Client, url string, conns int, d time.Duration) (float64, int64) {
	var n, errs atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				resp, err := hc.Get(url)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), errs.Load()
}

// provision creates one funded user with a trader key per connection.
func provision(ctx context.Context, hc *http.Client, base, token string, n int) ([]*gemini.Client, error) {
	return provisionFunded(ctx, hc, base, token, n, nil)
}

// provisionFunded is provision with extra funds: extra(i) lists currency
// and amount pairs for user i, on top of 1,000,000 USD. Eight users are
// made at a time.
func provisionFunded(ctx context.Context, hc *http.Client, base, token string, n int, extra func(i int) []string) ([]*gemini.Client, error) {
	run := time.Now().UnixNano()
	clients := make([]*gemini.Client, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var funds []string
			if extra != nil {
				funds = extra(i)
			}
			clients[i], errs[i] = provisionOne(ctx, hc, base, token, fmt.Sprintf("bench-%d-%d@example.com", run, i), funds)
		}()
	}
	wg.Wait()
	return clients, errors.Join(errs...)
}

// provisionOne creates a verified user with 1,000,000 USD and the extra
// funds (currency and amount pairs), on the unlimited plan, and a trader
// key for it.
func provisionOne(ctx context.Context, hc *http.Client, base, token, email string, extra []string) (*gemini.Client, error) {
	if err := adminPost(ctx, hc, base, token, "/admin/v1/accounts", map[string]any{"email": email, "verified": true}, nil); err != nil {
		return nil, err
	}
	funds := append([]string{"USD", "1000000"}, extra...)
	for k := 0; k+1 < len(funds); k += 2 {
		if err := adminPost(ctx, hc, base, token, "/admin/v1/fund", map[string]any{"email": email, "currency": funds[k], "amount": funds[k+1]}, nil); err != nil {
			return nil, err
		}
	}
	// Load tests must not stop at the free plan's daily quota.
	if err := adminPost(ctx, hc, base, token, "/admin/v1/plan", map[string]any{"email": email, "plan": "unlimited"}, nil); err != nil {
		return nil, err
	}
	var k struct{ Key, Secret string }
	if err := adminPost(ctx, hc, base, token, "/admin/v1/keys", map[string]any{"email": email, "roles": "trader"}, &k); err != nil {
		return nil, err
	}
	return gemini.New(base, k.Key, k.Secret, gemini.WithHTTPClient(hc)), nil
}

// adminPost sends an admin API request and decodes the answer into out.
func adminPost(ctx context.Context, hc *http.Client, base, token, path string, body, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: %s: %s", path, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func countLat(lat [][]int64) int {
	n := 0
	for _, l := range lat {
		n += len(l)
	}
	return n
}

// processCPU returns a process's user and system CPU time so far, from
// /proc/PID/stat (Linux); an error for pid 0 or elsewhere.
func processCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it start past ")".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat")
	}
	const ticks = 100 // USER_HZ: 100 on every Linux Go supports
	return time.Duration(utime+stime) * time.Second / ticks, nil
}
