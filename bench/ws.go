package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinex/twinex/app"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/gemini"
)

// WSConfig configures the WebSocket fan-out benchmark.
type WSConfig struct {
	Subscribers  int           // v2 l2 subscribers on btcusd (default 1000)
	Duration     time.Duration // measured time (default 10s)
	OrdersPerSec int           // crossing order load through REST (default 1000)
	Sim          bool          // run the market simulator too (default on through the CLI)
}

// WSResult is the benchmark's figures. Latency is from the moment the
// hub received the committed batch (core's OnCommit, right after the
// store commit) to a subscriber's read of the trade frame, over every
// (subscriber, trade) pair. CPU per message is the whole process's (server
// and the in-process subscribers' reading) divided by the frames the
// subscribers received.
type WSResult struct {
	Subscribers    int     `json:"subscribers"`
	MessagesPerSec float64 `json:"messages_per_sec"`
	LatencyP50ms   float64 `json:"latency_p50_ms"`
	LatencyP99ms   float64 `json:"latency_p99_ms"`
	DroppedClients int64   `json:"dropped_clients"`
	CPUusPerMsg    float64 `json:"cpu_us_per_message"`
	OrdersPerSec   float64 `json:"orders_per_sec"`
	Trades         int64   `json:"trades"`
	Samples        int     `json:"latency_samples"`
	Errors         int64   `json:"errors"`
}

// WS runs the fan-out benchmark: a sandbox server on a temporary data
// directory (with the simulator when cfg.Sim), Subscribers v2 clients
// subscribed to l2 on BTCUSD over loopback, and a load of crossing orders
// (a resting sell, then an immediate-or-cancel buy that takes it) at
// OrdersPerSec through signed REST.
func WS(ctx context.Context, cfg WSConfig) (WSResult, error) { // long: one benchmark run in order: server, subscribers, load, measurement, teardown
	if cfg.Subscribers <= 0 {
		cfg.Subscribers = 1000
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.OrdersPerSec <= 0 {
		cfg.OrdersPerSec = 1000
	}
	res := WSResult{Subscribers: cfg.Subscribers}
	dir, err := os.MkdirTemp("", "twinex-bench-ws-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	a := &app.App{Listen: "127.0.0.1:0", DataDir: dir, Sim: cfg.Sim, WSPerIP: cfg.Subscribers + 16}
	if err := a.Open(ctx); err != nil {
		return res, err
	}
	defer a.Close()
	base := "http://" + a.Addr()
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		return res, err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}
	workers := 32
	// The even clients sell, so they get BTC as well.
	clients, err := provisionFunded(ctx, hc, base, strings.TrimSpace(string(tok)), 2*workers, func(i int) []string {
		if i%2 == 0 {
			return []string{"BTC", "1000"}
		}
		return nil
	})
	if err != nil {
		return res, err
	}

	// Commit times of trades, by trade id, from the hub.
	var commits sync.Map // int64 -> time.Time
	hub := a.Feed()
	hub.Trace(func(m *feed.Msg) {
		for _, t := range m.Trades {
			commits.Store(t.ID, m.At)
		}
	})
	defer hub.Trace(nil)

	// Subscribers.
	var frames, errs atomic.Int64
	lat := make([][]int64, cfg.Subscribers)
	var measuring atomic.Bool
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, cfg.Subscribers)
	url := "ws" + strings.TrimPrefix(base, "http") + "/v2/marketdata"
	tid := []byte(`"tid":`)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
		if err != nil {
			return res, fmt.Errorf("bench: subscriber %d: %w", i, err)
		}
		conns[i] = c
		c.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]}]}`))
		wg.Add(1)
		go func(i int, c *websocket.Conn) {
			defer wg.Done()
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					return
				}
				now := time.Now()
				if !measuring.Load() {
					continue
				}
				frames.Add(1)
				if !bytes.HasPrefix(data, []byte(`{"type":"trade"`)) {
					continue
				}
				k := bytes.Index(data, tid)
				if k < 0 {
					continue
				}
				end := bytes.IndexByte(data[k+len(tid):], '}')
				id, err := strconv.ParseInt(string(data[k+len(tid):k+len(tid)+end]), 10, 64)
				if err != nil {
					continue
				}
				if at, ok := commits.Load(id); ok {
					lat[i] = append(lat[i], int64(now.Sub(at.(time.Time))))
				}
			}
		}(i, c)
	}
	time.Sleep(500 * time.Millisecond) // snapshots delivered

	// Load: each worker pair crosses at its share of the rate.
	var orders, trades atomic.Int64
	measuring.Store(true)
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var lw sync.WaitGroup
	per := time.Duration(float64(time.Second) * 2 * float64(workers) / float64(cfg.OrdersPerSec))
	for w := 0; w < workers; w++ {
		seller, buyer := clients[2*w], clients[2*w+1]
		lw.Add(1)
		go func() {
			defer lw.Done()
			tick := time.NewTicker(per)
			defer tick.Stop()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				<-tick.C
				price := gemini.Decimal("30000.00")
				if _, err := seller.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.001", Price: price, Side: "sell"}); err != nil {
					errs.Add(1)
					continue
				}
				o, err := buyer.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.001", Price: price, Side: "buy", Options: []string{"immediate-or-cancel"}})
				if err != nil {
					errs.Add(1)
					continue
				}
				orders.Add(2)
				if o.ExecutedAmount != "0" {
					trades.Add(1)
				}
			}
		}()
	}
	lw.Wait()
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond) // the last frames
	measuring.Store(false)
	cpu := cpuTime() - cpu0
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()

	all := slices.Concat(lat...)
	slices.Sort(all)
	res.Samples = len(all)
	if len(all) > 0 {
		res.LatencyP50ms = float64(all[len(all)/2]) / 1e6
		res.LatencyP99ms = float64(all[min(len(all)-1, len(all)*99/100)]) / 1e6
	}
	n := frames.Load()
	res.MessagesPerSec = float64(n) / elapsed.Seconds()
	if n > 0 {
		res.CPUusPerMsg = float64(cpu.Microseconds()) / float64(n)
	}
	res.OrdersPerSec = float64(orders.Load()) / elapsed.Seconds()
	res.Trades, res.Errors = trades.Load(), errs.Load()
	res.DroppedClients = hub.Dropped()
	return res, nil
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
