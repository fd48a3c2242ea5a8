package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinex/twinex/app"
	"github.com/twinex/twinex/gemini"
)

// SoakConfig configures the soak run.
type SoakConfig struct {
	Duration time.Duration // default 10m
	Every    time.Duration // between samples (default 10s)
	Conns    int           // signed load connections (default 8)
}

// SoakSample is one line of the soak's output.
type SoakSample struct {
	Seconds    float64 `json:"t_s"`
	RSSMB      float64 `json:"rss_mb"`        // the process's resident memory (server and loader)
	HeapInUse  float64 `json:"heap_inuse_mb"` // the Go heap in use
	HeapSys    float64 `json:"heap_sys_mb"`
	Goroutines int     `json:"goroutines"`
	Orders     int64   `json:"orders"` // placed and cancelled so far
	Errors     int64   `json:"errors"`
}

// Soak starts a sandbox server (simulator on) in a temporary directory,
// drives signed orders and cancels from Conns connections for Duration,
// and writes a SoakSample every Every to out, as JSON lines: to see whether
// memory levels off. RSS counts the SQLite page caches (outside the Go
// heap, bounded by the store's cache_size settings) and the loader; the Go
// heap in use is the server's own state.
func Soak(ctx context.Context, cfg SoakConfig, out io.Writer) error {
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Minute
	}
	if cfg.Every <= 0 {
		cfg.Every = 10 * time.Second
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 8
	}
	dir, err := os.MkdirTemp("", "twinex-bench-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	a := &app.App{Listen: "127.0.0.1:0", DataDir: dir, Sim: true, SimSeed: 1}
	if err := a.Open(ctx); err != nil {
		return err
	}
	defer a.Close()
	base := "http://" + a.Addr()
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * cfg.Conns, MaxIdleConnsPerHost: 4 * cfg.Conns}}
	clients, err := provision(ctx, hc, base, strings.TrimSpace(string(tok)), cfg.Conns)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var orders, errs atomic.Int64
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func(c *gemini.Client) {
			defer wg.Done()
			for ctx.Err() == nil {
				o, err := c.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.0001", Price: "1000.00", Side: "buy"})
				if err != nil {
					errs.Add(1)
					continue
				}
				if _, err := c.CancelOrder(ctx, o.OrderID); err != nil {
					errs.Add(1)
					continue
				}
				orders.Add(1)
			}
		}(c)
	}
	enc := json.NewEncoder(out)
	start := time.Now()
	sample := func() error {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return enc.Encode(SoakSample{Seconds: time.Since(start).Round(time.Second).Seconds(), RSSMB: rssMB(),
			HeapInUse: mb(ms.HeapInuse), HeapSys: mb(ms.HeapSys), Goroutines: runtime.NumGoroutine(),
			Orders: orders.Load(), Errors: errs.Load()})
	}
	t := time.NewTicker(cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			runtime.GC()
			return sample()
		case <-t.C:
			if err := sample(); err != nil {
				return err
			}
		}
	}
}

func mb(b uint64) float64 { return float64(b*10/(1<<20)) / 10 }

// rssMB reads this process's resident memory (Linux; 0 elsewhere).
func rssMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return float64(int(kb/1024*10)) / 10
		}
	}
	return 0
}
