// Package bench holds Twinex's benchmarks as library code, so that the
// `twinex bench` command and Go benchmarks run the same workloads. Each
// benchmark returns figures that the command prints as one JSON line.
package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
)

// EngineConfig configures the engine benchmark.
type EngineConfig struct {
	Orders  int    // commands to time (default 1,000,000)
	Seed    uint64 // workload seed
	Durable bool   // through the sequencer and group commit into a store
	// OpenStore opens a store in dir; required when Durable.
	OpenStore func(dir string) (twinex.ExchangeStore, error)
	// Clients is the number of concurrent submitters when Durable
	// (default 2048).
	Clients int
	// OpenJournal, when set with Durable, opens the command journal in
	// dir: batches are then durable once journaled, and the store is the
	// projection behind it. Journal names it in the figures.
	OpenJournal func(dir string) (twinex.Journal, error)
	Journal     string
	// Profile, when set with Durable, receives a CPU profile of the timed
	// phase alone (the commands and the projection's catching up), not of
	// the workload's generation and the setup's deposits.
	Profile io.Writer
}

// EngineResult is the engine benchmark's figures.
type EngineResult struct {
	Ops       int     `json:"ops"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50       int64   `json:"p50_ns"`
	P99       int64   `json:"p99_ns"`
	P999      int64   `json:"p999_ns"`
	Seed      uint64  `json:"seed"`
	Durable   bool    `json:"durable"`
	Journal   string  `json:"journal,omitempty"`
	// CaughtUpMS is how long after the last answer the projection held
	// everything, and SustainedPerSec the commands per second counted to
	// that point (with a journal).
	CaughtUpMS      float64 `json:"projection_caught_up_ms,omitempty"`
	SustainedPerSec float64 `json:"sustained_ops_per_sec,omitempty"`
	// CPUMS is this process's CPU time over the timed phase, to the
	// projection's catching up (durable runs); a store server's own CPU,
	// such as PostgreSQL's, is not in it.
	CPUMS float64 `json:"cpu_ms,omitempty"`

	Resting int   `json:"resting_orders"`
	Levels  int   `json:"price_levels"`
	Trades  int64 `json:"trades"`
}

const (
	benchAccounts = 4096
	midPrice      = 3_000_000 // 30000.00 in btcusd price units
	halfLevels    = 800       // resting prices span 2*halfLevels ticks; ~1,000 orders fill ~750 of them
	targetResting = 1000
)

// Workload is a pre-generated command stream and the setup it needs.
type Workload struct {
	Setup    []engine.Command // deposits and the initial resting orders
	Commands []engine.Command // the timed stream
	// PlacedID[i] is the order id command i got in the simulation (0 for
	// other commands), so that concurrent replays can map cancels to the
	// ids their own places got.
	PlacedID []int64
}

// GenerateEngineWorkload builds a seeded stream shaped like exchange-core's
// published benchmark: about 1,000 resting orders spread over about 750
// price levels of btcusd, then a mix of new resting orders (40%), cancels
// (30%), and crossing immediate-or-cancel (20%) and fill-or-kill (10%)
// orders. It simulates the stream on a scratch exchange so that cancels
// name orders that are open at that point; replaying it gives the same
// results, since the engine is deterministic.
func GenerateEngineWorkload(n int, seed uint64) *Workload { // long: the published workload's recipe in one place: accounts, resting book, then the weighted command mix
	ms := twinex.DefaultMarkets()
	mi := ms.Index("btcusd")
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	x := engine.New(ms)
	var out engine.Output
	now := int64(1)
	w := &Workload{}
	run := func(c engine.Command, setup bool) engine.Result {
		now++
		c.Time = now
		out.Reset()
		r := x.Apply(&c, &out)
		if setup {
			w.Setup = append(w.Setup, c)
		} else {
			w.Commands = append(w.Commands, c)
			var id int64
			if c.Kind == engine.Place {
				id = r.Order.ID
			}
			w.PlacedID = append(w.PlacedID, id)
		}
		return r
	}
	for a := int64(0); a < benchAccounts; a++ {
		acct := twinex.FirstUserAccountID + a
		run(engine.Command{Kind: engine.DepositFunds, AccountID: acct, Currency: "USD", Funds: 100_000 * 1e10}, true)
		run(engine.Command{Kind: engine.DepositFunds, AccountID: acct, Currency: "BTC", Funds: 10 * 1e11}, true)
	}
	open := make([]int64, 0, 2*targetResting)
	openAcct := map[int64]int64{}
	var batch twinex.Batch
	place := func(setup bool, opt twinex.Option, crossing bool) {
		acct := twinex.FirstUserAccountID + rng.Int64N(benchAccounts)
		side := twinex.Buy
		if rng.IntN(2) == 0 {
			side = twinex.Sell
		}
		// Resting orders sit on their own side of the mid; crossing orders
		// reach a few levels into the other side.
		off := 1 + rng.Int64N(halfLevels)
		if crossing {
			off = -(1 + rng.Int64N(halfLevels/8))
		}
		price := midPrice - off
		if side == twinex.Sell {
			price = midPrice + off
		}
		amount := (1 + rng.Int64N(20)) * 1000 // 0.00001 .. 0.0002 BTC
		if crossing {
			amount *= 1 + rng.Int64N(4)
		}
		r := run(engine.Command{Kind: engine.Place, AccountID: acct, Session: "bench", Market: mi,
			Side: side, Type: twinex.Limit, Option: opt, Price: price, Amount: amount}, setup)
		if r.Err == nil && r.Order.Status == twinex.StatusLive {
			open = append(open, r.Order.ID)
			openAcct[r.Order.ID] = acct
		}
	}
	for len(open) < targetResting {
		place(true, twinex.NoOption, false)
	}
	for len(w.Commands) < n {
		// Keep the book near its target size: drop ids that trades closed,
		// and cancel more when it is above target.
		if len(w.Commands)%256 == 0 {
			open = slices.DeleteFunc(open, func(id int64) bool {
				_, ok := x.OpenOrder(id)
				if !ok {
					delete(openAcct, id)
				}
				return !ok
			})
			x.TakeChanges(&batch)
			batch.Reset()
		}
		p := rng.IntN(100)
		if len(open) > targetResting*11/10 {
			p = 45 // a cancel
		}
		switch {
		case p < 40:
			place(false, twinex.NoOption, false)
		case p < 70 && len(open) > 0:
			k := rng.IntN(len(open))
			id := open[k]
			open[k] = open[len(open)-1]
			open = open[:len(open)-1]
			run(engine.Command{Kind: engine.Cancel, AccountID: openAcct[id], OrderID: id}, false)
			delete(openAcct, id)
		case p < 90:
			place(false, twinex.ImmediateOrCancel, true)
		default:
			place(false, twinex.FillOrKill, true)
		}
	}
	return w
}

// Engine runs the engine benchmark.
func Engine(ctx context.Context, cfg EngineConfig) (EngineResult, error) {
	if cfg.Orders <= 0 {
		cfg.Orders = 1_000_000
	}
	w := GenerateEngineWorkload(cfg.Orders, cfg.Seed)
	if cfg.Durable {
		return engineDurable(ctx, cfg, w)
	}
	ms := twinex.DefaultMarkets()
	x := engine.New(ms)
	var out engine.Output
	var batch twinex.Batch
	for i := range w.Setup {
		x.Apply(&w.Setup[i], &out)
		out.Reset()
	}
	x.TakeChanges(&batch)
	res := EngineResult{Seed: cfg.Seed}
	bids, asks := x.Depth(ms.Index("btcusd"), nil, nil, 0)
	res.Levels = len(bids) + len(asks)
	res.Resting = x.OpenOrderCount()
	lat := make([]int64, len(w.Commands))
	start := time.Now()
	for i := range w.Commands {
		t0 := time.Now()
		x.Apply(&w.Commands[i], &out)
		lat[i] = int64(time.Since(t0))
		// The sequencer collects changes once per batch; do the same every
		// 1,000 commands so that the timed path includes that work.
		if i%1000 == 999 {
			res.Trades += int64(len(out.Trades))
			out.Reset()
			batch.Reset()
			x.TakeChanges(&batch)
		}
	}
	elapsed := time.Since(start)
	res.Trades += int64(len(out.Trades))
	if err := x.Check(); err != nil {
		return res, fmt.Errorf("bench: invariants after the run: %w", err)
	}
	finish(&res, lat, elapsed)
	return res, nil
}

func finish(res *EngineResult, lat []int64, elapsed time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) int64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	res.Ops = len(lat)
	res.OpsPerSec = float64(len(lat)) / elapsed.Seconds()
	res.P50, res.P99, res.P999 = pct(0.50), pct(0.99), pct(0.999)
}

// engineDurable sends the workload through a Core with a real store, from
// many concurrent clients, so that group commit has batches to form.
func engineDurable(ctx context.Context, cfg EngineConfig, w *Workload) (EngineResult, error) {
	res := EngineResult{Seed: cfg.Seed, Durable: true}
	if cfg.OpenStore == nil {
		return res, fmt.Errorf("bench: durable mode needs a store")
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 2048
	}
	dir, err := os.MkdirTemp("", "twinex-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	st, err := cfg.OpenStore(filepath.Join(dir, "twinex.db"))
	if err != nil {
		return res, err
	}
	defer st.Close()
	ccfg := core.Config{Store: st, Markets: twinex.DefaultMarkets()}
	if cfg.OpenJournal != nil {
		j, err := cfg.OpenJournal(dir)
		if err != nil {
			return res, err
		}
		defer j.Close()
		ccfg.Journal, res.Journal = j, cfg.Journal
	}
	c, err := core.Open(ctx, ccfg)
	if err != nil {
		return res, err
	}
	for _, cmd := range w.Setup {
		if _, err := c.Do(ctx, cmd); err != nil {
			c.Close()
			return res, err
		}
	}
	if cfg.Profile != nil {
		if err := pprof.StartCPUProfile(cfg.Profile); err != nil {
			c.Close()
			return res, err
		}
	}
	cpu0 := cpuOf(os.Getpid())
	start := time.Now()
	lat, firstErr := drive(ctx, c, w, cfg.Clients)
	elapsed := time.Since(start)
	if ccfg.Journal != nil {
		if err := c.Caught(ctx); err != nil && firstErr == nil {
			firstErr = err
		}
		all := time.Since(start)
		res.CaughtUpMS = ms(all - elapsed)
		res.SustainedPerSec = float64(len(w.Commands)) / all.Seconds()
	}
	if cpu1 := cpuOf(os.Getpid()); cpu0 >= 0 && cpu1 >= 0 {
		res.CPUMS = ms(cpu1 - cpu0)
	}
	if cfg.Profile != nil {
		pprof.StopCPUProfile()
	}
	var cerr error
	if err := c.Inspect(ctx, func(x *engine.Exchange) {
		cerr = x.Check()
		res.Resting = x.OpenOrderCount()
		bids, asks := x.Depth(x.Markets().Index("btcusd"), nil, nil, 0)
		res.Levels = len(bids) + len(asks)
		res.Trades = x.Counters().TradeID
	}); err != nil {
		cerr = err
	}
	if err := c.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return res, firstErr
	}
	if cerr != nil {
		return res, fmt.Errorf("bench: invariants after the run: %w", cerr)
	}
	finish(&res, lat, elapsed)
	return res, nil
}

// drive sends w's commands to c from clients concurrent submitters and
// returns each command's latency (ns) and the first error.
func drive(ctx context.Context, c *core.Core, w *Workload, clients int) ([]int64, error) {
	// Commands of one account must keep their order (a cancel follows its
	// place), so each client owns a set of accounts and submits their
	// commands in stream order.
	per := make([][]int, clients)
	for i, cmd := range w.Commands {
		k := int(cmd.AccountID % int64(clients))
		per[k] = append(per[k], i)
	}
	lat := make([]int64, len(w.Commands))
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for _, idx := range per {
		if len(idx) == 0 {
			continue
		}
		wg.Add(1)
		go func(idx []int) {
			defer wg.Done()
			ids := map[int64]int64{} // simulated id -> id in this run
			for _, i := range idx {
				cmd := w.Commands[i]
				if cmd.Kind == engine.Cancel {
					cmd.OrderID = ids[cmd.OrderID]
				}
				t0 := time.Now()
				r, err := c.Do(ctx, cmd)
				if err == nil && w.PlacedID[i] != 0 {
					ids[w.PlacedID[i]] = r.Order.ID
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				lat[i] = int64(time.Since(t0))
			}
		}(idx)
	}
	wg.Wait()
	return lat, firstErr
}
