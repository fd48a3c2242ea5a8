package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
)

// RestartConfig configures the restart benchmark.
type RestartConfig struct {
	Open      int    // open orders at the restart
	History   int    // closed orders in the history
	Seed      uint64 // workload seed
	OpenStore func(path string) (twinex.ExchangeStore, error)
	// Journaled commands are appended to the journal (OpenJournal, in
	// the store's directory) after the store's last checkpoint, so that
	// the restart replays them.
	Journaled   int
	OpenJournal func(dir string) (twinex.Journal, error)
	// Profile, if set, receives a CPU profile of the timed restart alone
	// (the setup left out).
	Profile io.Writer
}

// RestartResult is the restart benchmark's figures.
type RestartResult struct {
	OpenOrders       int     `json:"open_orders"`
	HistoricalOrders int     `json:"historical_orders"`
	RestartMS        float64 `json:"restart_ms"` // open the store and recover until ready to serve
	OpenStoreMS      float64 `json:"open_store_ms"`
	RecoverMS        float64 `json:"recover_ms"`
	SetupMS          float64 `json:"setup_ms"` // building the data, not timed
	// RestartCPUMS is the process's CPU time over RestartMS (both cores'
	// worth, the garbage collector's included): the figure that does not
	// depend on who else shares the machine.
	RestartCPUMS float64 `json:"restart_cpu_ms"`
	// JournaledCommands were replayed from the journal before serving;
	// the projection of their effects then caught up in CaughtUpMS,
	// while the exchange was already serving.
	JournaledCommands int     `json:"journaled_commands,omitempty"`
	CaughtUpMS        float64 `json:"projection_caught_up_ms,omitempty"`
}

// Restart builds a store holding cfg.History closed orders and cfg.Open open
// ones (made by the real engine, so the state is consistent), closes it, and
// times opening it again and recovering the exchange until it could serve.
func Restart(ctx context.Context, cfg RestartConfig) (RestartResult, error) {
	if cfg.Open < 0 || cfg.History < 0 {
		return RestartResult{}, fmt.Errorf("bench: negative order counts")
	}
	res := RestartResult{OpenOrders: cfg.Open, HistoricalOrders: cfg.History}
	if cfg.OpenStore == nil {
		return res, fmt.Errorf("bench: restart needs a store")
	}
	dir, err := os.MkdirTemp("", "twinex-restart-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "twinex.db")
	setup := time.Now()
	if err := buildHistory(ctx, cfg, path); err != nil {
		return res, err
	}
	if cfg.Journaled > 0 {
		if cfg.OpenJournal == nil {
			return res, fmt.Errorf("bench: journaled commands need a journal")
		}
		if err := buildJournal(ctx, cfg, path); err != nil {
			return res, err
		}
		res.JournaledCommands = cfg.Journaled
	}
	res.SetupMS = ms(time.Since(setup))

	// A restarted server begins with an empty heap, not with the garbage
	// of building the data.
	runtime.GC()
	debug.FreeOSMemory()
	profiling := false
	stopProfile := func() {
		if profiling {
			pprof.StopCPUProfile()
			profiling = false
		}
	}
	defer stopProfile()
	if cfg.Profile != nil {
		if err := pprof.StartCPUProfile(cfg.Profile); err != nil {
			return res, err
		}
		profiling = true
	}
	cpu0 := cpuOf(os.Getpid())
	start := time.Now()
	st, err := cfg.OpenStore(path)
	if err != nil {
		return res, err
	}
	defer st.Close()
	ccfg := core.Config{Store: st, Markets: twinex.DefaultMarkets()}
	if cfg.OpenJournal != nil {
		j, err := cfg.OpenJournal(filepath.Dir(path))
		if err != nil {
			return res, err
		}
		defer j.Close()
		ccfg.Journal = j
	}
	res.OpenStoreMS = ms(time.Since(start))
	c, err := core.Open(ctx, ccfg)
	if err != nil {
		return res, err
	}
	res.RestartMS = ms(time.Since(start))
	stopProfile()
	if cpu1 := cpuOf(os.Getpid()); cpu0 >= 0 && cpu1 >= 0 {
		res.RestartCPUMS = ms(cpu1 - cpu0)
	}
	res.RecoverMS = res.RestartMS - res.OpenStoreMS
	if err := c.Caught(ctx); err != nil {
		c.Close()
		return res, err
	}
	res.CaughtUpMS = ms(time.Since(start)) - res.RestartMS
	var n int
	c.Inspect(ctx, func(x *engine.Exchange) { n = x.OpenOrderCount() })
	if err := c.Close(); err != nil {
		return res, err
	}
	if n != cfg.Open && cfg.Journaled == 0 {
		return res, fmt.Errorf("bench: recovered %d open orders, want %d", n, cfg.Open)
	}
	return res, nil
}

// unprojected is a store whose projection never moves: what the core
// journals stays in the journal only, as after a crash right before the
// projector ran.
type unprojected struct{ twinex.ExchangeStore }

func (unprojected) Project(context.Context, *twinex.Batch) error { return nil }
func (unprojected) Checkpoint(context.Context) error             { return nil }

// buildJournal sends cfg.Journaled commands of the engine workload through
// a core whose projection does not move, so that they are in the journal
// only.
func buildJournal(ctx context.Context, cfg RestartConfig, path string) error {
	st, err := cfg.OpenStore(path)
	if err != nil {
		return err
	}
	defer st.Close()
	j, err := cfg.OpenJournal(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer j.Close()
	c, err := core.Open(ctx, core.Config{Store: unprojected{st}, Journal: j, KeepJournal: true, Markets: twinex.DefaultMarkets()})
	if err != nil {
		return err
	}
	w := GenerateEngineWorkload(cfg.Journaled, cfg.Seed)
	for _, cmd := range w.Setup {
		if _, err := c.Do(ctx, cmd); err != nil {
			c.Close()
			return err
		}
	}
	if _, err := drive(ctx, c, w, 512); err != nil {
		c.Close()
		return err
	}
	return c.Close()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// buildHistory fills a store through the engine: orders placed and
// cancelled (the history), then orders left resting on both sides of the
// btcusd book (the open ones), committed in batches as the sequencer would.
func buildHistory(ctx context.Context, cfg RestartConfig, path string) error {
	st, err := cfg.OpenStore(path)
	if err != nil {
		return err
	}
	defer st.Close()
	ms := twinex.DefaultMarkets()
	x := engine.New(ms)
	rng := rand.New(rand.NewPCG(cfg.Seed, 11))
	var out engine.Output
	var batch twinex.Batch
	now := time.Now().Add(-time.Hour).UnixNano()
	apply := func(c engine.Command) engine.Result {
		now++
		c.Time = now
		r := x.Apply(&c, &out)
		if r.Err != nil {
			panic(fmt.Sprintf("bench: setup command %+v: %v", c, r.Err))
		}
		return r
	}
	flush := func(force bool) error {
		if !force && len(out.Events) < 200_000 {
			return nil
		}
		batch.Reset()
		x.TakeChanges(&batch)
		batch.Trades = append(batch.Trades, out.Trades...)
		batch.Transfers = append(batch.Transfers, out.Transfers...)
		out.Reset()
		return st.Commit(ctx, &batch)
	}
	const accounts = 1000
	for a := int64(0); a < accounts; a++ {
		acct := twinex.FirstUserAccountID + a
		apply(engine.Command{Kind: engine.DepositFunds, AccountID: acct, Currency: "USD", Funds: 100_000 * 1e10})
		apply(engine.Command{Kind: engine.DepositFunds, AccountID: acct, Currency: "BTC", Funds: 100 * 1e11})
	}
	place := func() twinex.Order {
		side, price := twinex.Buy, int64(midPrice-1-rng.Int64N(5000))
		if rng.IntN(2) == 0 {
			side, price = twinex.Sell, int64(midPrice+1+rng.Int64N(5000))
		}
		return apply(engine.Command{Kind: engine.Place, AccountID: twinex.FirstUserAccountID + rng.Int64N(accounts),
			Session: "bench", Market: 0, Side: side, Type: twinex.Limit, Price: price, Amount: 1000 * (1 + rng.Int64N(10))}).Order
	}
	for i := 0; i < cfg.History; i++ {
		o := place()
		apply(engine.Command{Kind: engine.Cancel, AccountID: o.AccountID, OrderID: o.ID})
		if err := flush(false); err != nil {
			return err
		}
	}
	for i := 0; i < cfg.Open; i++ {
		place()
		if err := flush(false); err != nil {
			return err
		}
	}
	return flush(true)
}
