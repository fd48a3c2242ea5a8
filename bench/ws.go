package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	Sim          bool          // run the market simulator too (default on through the CLI; in-process only)
	// Loaders is how many seller and buyer pairs send the load (default
	// OrdersPerSec/8, at least 8 and at most 256): each pair sends a
	// resting sell and then the buy that takes it, one after the other, so
	// a pair's rate is bounded by the orders' round trips.
	Loaders int
	// URL targets a running sandbox server (`twinex serve`) instead of
	// starting one in this process; Token is its admin token. It must let
	// one address hold Subscribers sockets (serve --ws-per-ip) and its rate
	// limits must allow the load (--rate-public off --rate-private off).
	URL, Token string
	// PID, with URL, is the server's process: server_cpu_us_per_message is
	// its CPU time (/proc/PID/stat) over the measured time per frame the
	// subscribers received.
	PID int
	// Pprof, with URL, is the server's --pprof-listen (http://host:port):
	// the benchmark takes the server's CPU, mutex and block profiles over
	// the measured time into ProfilePrefix + "cpu.pprof", ...
	Pprof, ProfilePrefix string
}

// Latency origins (WSResult.LatencyFrom).
const (
	// LatencyFromCommit: from the moment the hub received the durable
	// batch (core's OnCommit, after the journal's sync), observed in
	// process through the hub's trace.
	LatencyFromCommit = "commit"
	// LatencyFromStamp: from the trade's sequencer stamp as the frame
	// carries it (its timestamp, in whole milliseconds, so rounded down):
	// the stamp precedes the commit by the group commit, so this is an
	// upper bound of commit-to-client. Used with URL, where the commit
	// is not observable.
	LatencyFromStamp = "sequencer_stamp_ms"
)

// WSResult is the benchmark's figures. Latency is over every (subscriber,
// trade frame) pair, from LatencyFrom to the subscriber's read of the
// frame. CPU per message divides CPU time over the measured time by the
// frames the subscribers received: cpu_us_per_message counts every
// process taking part (the server and the subscribers, in one process or
// two), server_cpu_us_per_message the server alone and
// loader_cpu_us_per_message this process alone (with URL and PID).
type WSResult struct {
	Subscribers       int     `json:"subscribers"`
	MessagesPerSec    float64 `json:"messages_per_sec"`
	LatencyP50ms      float64 `json:"latency_p50_ms"`
	LatencyP99ms      float64 `json:"latency_p99_ms"`
	LatencyMaxms      float64 `json:"latency_max_ms"`
	LatencyFrom       string  `json:"latency_from"`
	DroppedClients    int64   `json:"dropped_clients"`
	DropReason        string  `json:"drop_reason,omitempty"`
	CPUusPerMsg       float64 `json:"cpu_us_per_message"`
	ServerCPUusPerMsg float64 `json:"server_cpu_us_per_message,omitempty"`
	LoaderCPUusPerMsg float64 `json:"loader_cpu_us_per_message,omitempty"`
	// ServerCores and LoaderCores are the same CPU times per second of the
	// measured time: comparable between builds that send a load's trades
	// and book changes in fewer frames.
	ServerCores float64 `json:"server_cpu_cores,omitempty"`
	LoaderCores float64 `json:"loader_cpu_cores,omitempty"`
	// StampP50ms and StampP99ms are, in process, the same latency from
	// the trade's sequencer stamp (as with URL), to compare the modes.
	StampP50ms float64 `json:"stamp_latency_p50_ms,omitempty"`
	StampP99ms float64 `json:"stamp_latency_p99_ms,omitempty"`
	// OrderP50ms and OrderP99ms are the load's REST round trips (each
	// answered after its batch became durable): how busy the server and
	// its group commit are.
	OrderP50ms   float64 `json:"order_p50_ms"`
	OrderP99ms   float64 `json:"order_p99_ms"`
	OrdersPerSec float64 `json:"orders_per_sec"`
	Trades       int64   `json:"trades"`
	Samples      int     `json:"latency_samples"`
	Errors       int64   `json:"errors"`
	Mode         string  `json:"mode"` // "in-process" or "url"
}

// wsTarget is the server under test, in this process or another.
type wsTarget struct {
	base, token string
	hub         *feed.Hub // in process only
	close       func()
}

// openWSTarget starts a sandbox server in this process, or names the one
// at cfg.URL.
func openWSTarget(ctx context.Context, cfg WSConfig) (*wsTarget, error) {
	if cfg.URL != "" {
		return &wsTarget{base: strings.TrimSuffix(cfg.URL, "/"), token: cfg.Token, close: func() {}}, nil
	}
	dir, err := os.MkdirTemp("", "twinex-bench-ws-")
	if err != nil {
		return nil, err
	}
	a := &app.App{Listen: "127.0.0.1:0", DataDir: dir, Sim: cfg.Sim, WSPerIP: cfg.Subscribers + 16}
	if err := a.Open(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	t := &wsTarget{base: "http://" + a.Addr(), hub: a.Feed(), close: func() { a.Close(); os.RemoveAll(dir) }}
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.close()
		return nil, err
	}
	t.token = strings.TrimSpace(string(tok))
	return t, nil
}

// WS runs the fan-out benchmark: Subscribers v2 clients subscribed to l2
// on BTCUSD over loopback, and a load of crossing orders (a resting sell,
// then an immediate-or-cancel buy that takes it) at OrdersPerSec through
// signed REST, against a sandbox server on a temporary data directory in
// this process (with the simulator when cfg.Sim), or against cfg.URL.
func WS(ctx context.Context, cfg WSConfig) (WSResult, error) { // long: one benchmark run in order: target, subscribers, load, measurement, teardown
	if cfg.Subscribers <= 0 {
		cfg.Subscribers = 1000
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.OrdersPerSec <= 0 {
		cfg.OrdersPerSec = 1000
	}
	if cfg.Loaders <= 0 {
		cfg.Loaders = min(max(cfg.OrdersPerSec/8, 8), 256)
	}
	res := WSResult{Subscribers: cfg.Subscribers, Mode: "in-process", LatencyFrom: LatencyFromCommit}
	if cfg.URL != "" {
		res.Mode, res.LatencyFrom = "url", LatencyFromStamp
	}
	t, err := openWSTarget(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer t.close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * cfg.Loaders, MaxIdleConnsPerHost: 2 * cfg.Loaders, IdleConnTimeout: time.Minute}}
	// The even clients sell, so they get BTC as well.
	clients, err := provisionFunded(ctx, hc, t.base, t.token, 2*cfg.Loaders, func(i int) []string {
		if i%2 == 0 {
			return []string{"BTC", "1000"}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	subs := &wsSubscribers{lat: make([][]int64, cfg.Subscribers), stampLat: make([][]int64, cfg.Subscribers), frames: make([]int64, cfg.Subscribers), stamp: t.hub == nil}
	if t.hub != nil {
		t.hub.Trace(subs.traceCommit)
		defer t.hub.Trace(nil)
	}
	if err := subs.dial(ctx, "ws"+strings.TrimPrefix(t.base, "http")+"/v2/marketdata", cfg.Subscribers); err != nil {
		subs.stop()
		return res, err
	}
	time.Sleep(500 * time.Millisecond) // snapshots delivered

	subs.measuring.Store(true)
	cpu0, self0 := cpuOf(cfg.PID), cpuOf(os.Getpid())
	profiles := startProfiles(ctx, hc, cfg.Pprof, cfg.ProfilePrefix, cfg.Duration)
	start := time.Now()
	ld := loadCrossing(ctx, clients, cfg.OrdersPerSec, start.Add(cfg.Duration))
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond) // the last frames
	subs.measuring.Store(false)
	cpu1, self1 := cpuOf(cfg.PID), cpuOf(os.Getpid())
	subs.stop()
	if err := profiles(); err != nil {
		return res, err
	}

	subs.figures(&res)
	var n int64
	for _, f := range subs.frames {
		n += f
	}
	res.MessagesPerSec = float64(n) / elapsed.Seconds()
	if n > 0 && self0 >= 0 && self1 >= 0 {
		self := float64((self1 - self0).Microseconds()) / float64(n)
		res.CPUusPerMsg = self
		if t.hub == nil {
			res.LoaderCPUusPerMsg = self
			res.LoaderCores = (self1 - self0).Seconds() / elapsed.Seconds()
			if cfg.PID > 0 && cpu0 >= 0 && cpu1 >= 0 {
				res.ServerCPUusPerMsg = float64((cpu1 - cpu0).Microseconds()) / float64(n)
				res.ServerCores = (cpu1 - cpu0).Seconds() / elapsed.Seconds()
				res.CPUusPerMsg += res.ServerCPUusPerMsg
			}
		}
	}
	res.OrdersPerSec = float64(len(ld.lat)) / elapsed.Seconds()
	res.Trades, res.Errors = ld.trades, ld.errs
	res.OrderP50ms, res.OrderP99ms = quantileMs(ld.lat, 0.5), quantileMs(ld.lat, 0.99)
	if t.hub != nil {
		res.DroppedClients = max(res.DroppedClients, t.hub.Dropped())
	}
	return res, nil
}

// cpuOf is processCPU, -1 when it is not known.
func cpuOf(pid int) time.Duration {
	d, err := processCPU(pid)
	if err != nil {
		return -1
	}
	return d
}

// wsLoad is what the crossing load did: each answered order's round
// trip, the trades among them and the failures.
type wsLoad struct {
	lat          []int64
	trades, errs int64
}

// loadCrossing sends crossing orders from the clients' pairs (even: the
// seller, odd: the buyer) at about rate orders a second until deadline.
// A pair that falls behind its pace skips the missed turns.
func loadCrossing(ctx context.Context, clients []*gemini.Client, rate int, deadline time.Time) wsLoad {
	pairs := len(clients) / 2
	per := time.Duration(float64(time.Second) * 2 * float64(pairs) / float64(rate))
	lat := make([][]int64, pairs)
	var nt, ne atomic.Int64
	var wg sync.WaitGroup
	for w := range pairs {
		seller, buyer := clients[2*w], clients[2*w+1]
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the pairs' turns over one period.
			time.Sleep(per * time.Duration(w) / time.Duration(pairs))
			tick := time.NewTicker(per)
			defer tick.Stop()
			price := gemini.Decimal("30000.00")
			sell := gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.001", Price: price, Side: "sell"}
			buy := gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.001", Price: price, Side: "buy", Options: []string{"immediate-or-cancel"}}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if _, err := seller.NewOrder(ctx, sell); err != nil {
					ne.Add(1)
					<-tick.C
					continue
				}
				t1 := time.Now()
				o, err := buyer.NewOrder(ctx, buy)
				if err != nil {
					ne.Add(1)
					<-tick.C
					continue
				}
				lat[w] = append(lat[w], int64(t1.Sub(t0)), int64(time.Since(t1)))
				if o.ExecutedAmount != "0" {
					nt.Add(1)
				}
				<-tick.C
			}
		}()
	}
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	return wsLoad{lat: all, trades: nt.Load(), errs: ne.Load()}
}

// quantileMs returns the q quantile of sorted nanoseconds, in ms.
func quantileMs(sorted []int64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[min(len(sorted)-1, int(float64(len(sorted))*q))]) / 1e6
}

// wsSubscribers are the benchmark's v2 clients and what they measured.
type wsSubscribers struct {
	stamp     bool     // latency from the frame's sequencer stamp only, not the commit
	commits   sync.Map // trade id -> time.Time the hub received its commit (in process)
	lat       [][]int64
	stampLat  [][]int64 // in process: from the stamp as well
	frames    []int64   // per subscriber, written when its reader ends
	measuring atomic.Bool
	stopping  atomic.Bool
	dropped   atomic.Int64
	dropWhy   atomic.Pointer[string]
	conns     []*websocket.Conn
	wg        sync.WaitGroup
}

// traceCommit notes the commit instant of each trade (the hub's trace).
func (s *wsSubscribers) traceCommit(m *feed.Msg) {
	for _, t := range m.Trades {
		s.commits.Store(t.ID, m.At)
	}
}

// dial connects n subscribers to url and starts their readers.
func (s *wsSubscribers) dial(ctx context.Context, url string, n int) error {
	sub := []byte(`{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]}]}`)
	// A read buffer as large as a burst of frames: one read system call
	// takes them all.
	d := websocket.Dialer{ReadBufferSize: 64 << 10, HandshakeTimeout: 10 * time.Second}
	for i := range n {
		c, resp, err := d.DialContext(ctx, url, nil)
		if err != nil {
			if resp != nil {
				err = fmt.Errorf("%w (HTTP %s: is the server's --ws-per-ip at least %d?)", err, resp.Status, n)
			}
			return fmt.Errorf("bench: subscriber %d: %w", i, err)
		}
		s.conns = append(s.conns, c)
		if err := c.WriteMessage(websocket.TextMessage, sub); err != nil {
			return fmt.Errorf("bench: subscriber %d: %w", i, err)
		}
		s.wg.Add(1)
		go s.read(i, c)
	}
	return nil
}

// read is subscriber i's loop: it reads every frame, counts it while
// measuring, and times each trade frame.
func (s *wsSubscribers) read(i int, c *websocket.Conn) {
	defer s.wg.Done()
	var buf bytes.Buffer // reused: the reader allocates nothing per frame
	frames := int64(0)
	defer func() { s.frames[i] = frames }()
	for {
		_, r, err := c.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			if !s.stopping.Load() {
				s.dropped.Add(1)
				why := err.Error()
				s.dropWhy.CompareAndSwap(nil, &why)
			}
			return
		}
		if !s.measuring.Load() {
			continue
		}
		frames++
		id, ms, ok := tradeFrame(buf.Bytes())
		if !ok {
			continue
		}
		now := time.Now()
		fromStamp := now.UnixNano() - ms*1e6
		if s.stamp {
			s.lat[i] = append(s.lat[i], fromStamp)
		} else if at, ok := s.commits.Load(id); ok {
			s.lat[i] = append(s.lat[i], int64(now.Sub(at.(time.Time))))
			s.stampLat[i] = append(s.stampLat[i], fromStamp)
		}
	}
}

// stop closes every subscriber and waits for the readers.
func (s *wsSubscribers) stop() {
	s.stopping.Store(true)
	for _, c := range s.conns {
		c.Close()
	}
	s.wg.Wait()
}

// figures fills in the latency and drop figures.
func (s *wsSubscribers) figures(res *WSResult) {
	all := slices.Concat(s.lat...)
	slices.Sort(all)
	res.Samples = len(all)
	if len(all) > 0 {
		res.LatencyP50ms, res.LatencyP99ms = quantileMs(all, 0.5), quantileMs(all, 0.99)
		res.LatencyMaxms = float64(all[len(all)-1]) / 1e6
	}
	st := slices.Concat(s.stampLat...)
	slices.Sort(st)
	res.StampP50ms, res.StampP99ms = quantileMs(st, 0.5), quantileMs(st, 0.99)
	res.DroppedClients = s.dropped.Load()
	if p := s.dropWhy.Load(); p != nil {
		res.DropReason = *p
	}
}

var (
	tradePrefix = []byte(`{"type":"trade"`)
	eventIDKey  = []byte(`,"event_id":`)
	stampKey    = []byte(`,"timestamp":`)
)

// tradeFrame returns a v2 trade frame's trade id (its event_id) and
// timestamp (Unix ms); false for any other frame. Every subscriber parses
// every trade, so this allocates nothing and, where Twinex writes
// timestamp right after event_id, does not search for it.
func tradeFrame(data []byte) (id, ms int64, ok bool) {
	if !bytes.HasPrefix(data, tradePrefix) {
		return 0, 0, false
	}
	rest := data[len(tradePrefix):]
	k := bytes.Index(rest, eventIDKey) // after `,"symbol":"BTCUSD"`: a short search
	if k < 0 {
		return 0, 0, false
	}
	id, n := jsonInt(rest[k+len(eventIDKey):])
	if n == 0 {
		return 0, 0, false
	}
	after := rest[k+len(eventIDKey)+n:]
	if !bytes.HasPrefix(after, stampKey) {
		// Not Twinex's order of fields: search for the stamp.
		if k = bytes.Index(rest, stampKey); k < 0 {
			return 0, 0, false
		}
		after = rest[k:]
	}
	ms, n = jsonInt(after[len(stampKey):])
	return id, ms, n > 0
}

// jsonInt reads the non-negative integer at the start of b and returns
// it with its length, which is 0 when b does not start with one that a
// ',' or '}' ends.
func jsonInt(b []byte) (int64, int) {
	var n int64
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9' && i < 18:
			n = n*10 + int64(c-'0')
		case (c == ',' || c == '}') && i > 0:
			return n, i
		default:
			return 0, 0
		}
	}
	return 0, 0
}
