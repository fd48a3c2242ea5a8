package sim

import (
	"flag"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized simulator tests (0: a new one each run)")

// testSeed returns the -seed flag or a fresh seed, and logs it so that a
// failure can be replayed with -seed.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed %d)", s, s)
	return s
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	user1 = twinex.FirstUserAccountID
	user2 = twinex.FirstUserAccountID + 1
)

// world is a Sim trading on a real engine.Exchange, driven step by step.
type world struct {
	tb     testing.TB
	seed   uint64
	ms     *twinex.Markets
	x      *engine.Exchange
	sim    *Sim
	out    engine.Output
	batch  twinex.Batch
	trades []twinex.Trade
	now    time.Time
	steps  int
}

// newWorld builds a Sim from cfg (with the given seed) on a fresh exchange,
// deposits what Funding says for the bots unless unfunded, and funds two
// users generously.
func newWorld(tb testing.TB, cfg Config, seed uint64, funded bool) *world {
	tb.Helper()
	ms := twinex.DefaultMarkets()
	cfg.Seed = seed
	s, err := New(cfg, ms)
	if err != nil {
		tb.Fatalf("seed %d: New: %v", seed, err)
	}
	w := &world{tb: tb, seed: seed, ms: ms, x: engine.New(ms), sim: s, now: t0}
	if funded {
		for _, c := range s.DepositCommands() {
			w.must(c)
		}
	}
	for _, u := range []int64{user1, user2} {
		for _, c := range ms.Currencies {
			w.must(engine.Command{Kind: engine.DepositFunds, AccountID: u, Currency: c.Code, Funds: 1_000_000 * twinex.Pow10(c.Scale)})
		}
	}
	return w
}

func (w *world) fatalf(format string, args ...any) {
	w.tb.Helper()
	w.tb.Fatalf("seed %d, step %d: %s", w.seed, w.steps, fmt.Sprintf(format, args...))
}

func (w *world) apply(c engine.Command) engine.Result {
	c.Time = w.now.UnixNano()
	r := w.x.Apply(&c, &w.out)
	w.trades = append(w.trades, w.out.Trades...)
	w.out.Reset()
	return r
}

func (w *world) must(c engine.Command) engine.Result {
	w.tb.Helper()
	r := w.apply(c)
	if r.Err != nil {
		w.fatalf("command %+v: %v", c, r.Err)
	}
	return r
}

// step advances the clock by d, runs one Step and applies its commands,
// observing each result. It returns the number of commands.
func (w *world) step(d time.Duration) int {
	w.now = w.now.Add(d)
	w.steps++
	cmds := w.sim.Step(w.now)
	for _, c := range cmds {
		w.sim.Observe(c, w.apply(c))
	}
	w.batch.Reset()
	w.x.TakeChanges(&w.batch)
	return len(cmds)
}

func (w *world) check() {
	w.tb.Helper()
	if err := w.x.Check(); err != nil {
		w.fatalf("engine check: %v", err)
	}
}

// best returns market sym's best bid and ask (0 when a side is empty).
func (w *world) best(sym string) (bid, ask int64) {
	b, a := w.x.Depth(w.ms.Index(sym), nil, nil, 1)
	if len(b) > 0 {
		bid = b[0].Price
	}
	if len(a) > 0 {
		ask = a[0].Price
	}
	return bid, ask
}

// place sends a user's limit order at a price relative to the reference
// (in bps), rounded to the tick.
func (w *world) place(acct int64, sym string, side twinex.Side, bps int64, amount string, opt twinex.Option) engine.Result {
	w.tb.Helper()
	m := w.ms.Market(sym)
	ref := w.sim.Reference(sym)
	price := roundTick(ref+ref*bps/10000, m.PriceTick)
	amt, err := m.ParseAmount(amount)
	if err != nil {
		w.fatalf("amount %q: %v", amount, err)
	}
	return w.apply(engine.Command{Kind: engine.Place, AccountID: acct, Session: "UI", Market: w.ms.Index(sym),
		Side: side, Type: twinex.Limit, Option: opt, Price: price, Amount: amt})
}

func defaultCfg() Config { return DefaultConfig(twinex.DefaultMarkets()) }

func TestDefaultConfig(t *testing.T) {
	cfg := defaultCfg()
	var syms []string
	for _, m := range cfg.Markets {
		syms = append(syms, m.Symbol)
	}
	if want := []string{"btcusd", "ethusd", "ethbtc", "solusd", "ltcusd"}; !slices.Equal(syms, want) {
		t.Fatalf("markets %v, want %v", syms, want)
	}
	s, err := New(cfg, twinex.DefaultMarkets())
	if err != nil {
		t.Fatal(err)
	}
	for _, sym := range syms {
		if s.Reference(sym) <= 0 {
			t.Errorf("%s: reference %d", sym, s.Reference(sym))
		}
	}
	if got := s.Reference("BTCUSD"); got != 3_000_000 {
		t.Errorf("btcusd reference %d, want 3000000", got)
	}
	f := s.Funding()
	if len(f) == 0 {
		t.Fatal("no funding")
	}
	for _, d := range f {
		if d.Funds <= 0 || (d.AccountID != DefaultMakerAccount && d.AccountID != DefaultTakerAccount) {
			t.Errorf("funding %+v", d)
		}
		t.Logf("account %d needs %s %s", d.AccountID, twinex.FormatUnits(d.Funds, twinex.DefaultMarkets().Currency(d.Currency).Scale), d.Currency)
	}
}

func TestConfigErrors(t *testing.T) {
	ms := twinex.DefaultMarkets()
	base := func() Config {
		return Config{MakerAccount: 2, TakerAccount: 3, Markets: []MarketConfig{{Symbol: "btcusd", Start: "30000", Size: "0.1", Volatility: 0.5}}}
	}
	if _, err := New(base(), ms); err != nil {
		t.Fatalf("base config: %v", err)
	}
	cases := map[string]func(*Config){
		"same accounts":     func(c *Config) { c.TakerAccount = 2 },
		"no maker account":  func(c *Config) { c.MakerAccount = 0 },
		"unknown market":    func(c *Config) { c.Markets[0].Symbol = "dogeusd" },
		"twice":             func(c *Config) { c.Markets = append(c.Markets, c.Markets[0]) },
		"size off step":     func(c *Config) { c.Markets[0].Size = "0.000000001" },
		"size below min":    func(c *Config) { c.Markets[0].Size = "0.000001" },
		"no size":           func(c *Config) { c.Markets[0].Size = "" },
		"bad start":         func(c *Config) { c.Markets[0].Start = "abc" },
		"zero start":        func(c *Config) { c.Markets[0].Start = "0" },
		"negative spread":   func(c *Config) { c.Markets[0].SpreadBps = -1 },
		"too many levels":   func(c *Config) { c.Markets[0].Levels = 1000 },
		"negative rate":     func(c *Config) { c.Markets[0].TakerRate = -1 },
		"nan volatility":    func(c *Config) { c.Markets[0].Volatility = math.NaN() },
		"unknown model":     func(c *Config) { c.Markets[0].Model = "garch" },
		"replay no points":  func(c *Config) { c.Markets[0].Model = "replay" },
		"replay unsorted":   func(c *Config) { c.Markets[0].Model, c.Markets[0].Replay = "replay", []PricePoint{{2, "1"}, {1, "2"}} },
		"replay bad price":  func(c *Config) { c.Markets[0].Model, c.Markets[0].Replay = "replay", []PricePoint{{1, "1"}, {2, "x"}} },
		"bad taker size":    func(c *Config) { c.Markets[0].TakerMaxSize = "-1" },
		"bad fees":          func(c *Config) { c.BotFees = &twinex.FeeRates{MakerBps: -1} },
		"tiny MaxCommands":  func(c *Config) { c.MaxCommands = 2 },
		"negative dt":       func(c *Config) { c.Dt = -time.Second },
		"huge sizes":        func(c *Config) { c.Markets[0].Size = "90000000" },
		"negative interval": func(c *Config) { c.Markets[0].RefreshEvery = -time.Second },
	}
	for name, mod := range cases {
		c := base()
		mod(&c)
		if _, err := New(c, ms); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// userFlow injects the same user commands at fixed steps: crossing IOCs,
// resting orders near the reference (which takers hit) and cancels.
func userFlow(w *world, i int, live *[]int64) {
	switch i % 50 {
	case 7:
		w.place(user1, "btcusd", twinex.Buy, 30, "0.05", twinex.ImmediateOrCancel)
	case 19:
		if r := w.place(user2, "ethusd", twinex.Sell, 2, "1", twinex.NoOption); r.Err == nil && r.Order.Status == twinex.StatusLive {
			*live = append(*live, r.Order.ID)
		}
	case 31:
		w.place(user1, "solusd", twinex.Sell, -40, "7", twinex.ImmediateOrCancel)
	case 43:
		if len(*live) > 0 {
			w.apply(engine.Command{Kind: engine.Cancel, AccountID: user2, OrderID: (*live)[0]})
			*live = (*live)[1:]
		}
	}
}

func TestDeterminism(t *testing.T) {
	seed := testSeed(t)
	run := func(seed uint64) ([]twinex.Trade, Stats) {
		w := newWorld(t, defaultCfg(), seed, true)
		var live []int64
		for i := 0; i < 10*60*4; i++ { // ten minutes at the default tick
			userFlow(w, i, &live)
			w.step(DefaultTick)
		}
		w.check()
		return w.trades, w.sim.Stats()
	}
	a, sa := run(seed)
	b, sb := run(seed)
	if len(a) < 100 {
		t.Fatalf("seed %d: only %d trades in ten minutes", seed, len(a))
	}
	if !slices.Equal(a, b) || sa != sb {
		t.Fatalf("seed %d: two runs differ: %d and %d trades, stats %+v and %+v", seed, len(a), len(b), sa, sb)
	}
	c, _ := run(seed + 1)
	if slices.Equal(a, c) {
		t.Fatalf("seeds %d and %d gave the same %d trades", seed, seed+1, len(a))
	}
	t.Logf("%d trades, stats %+v", len(a), sa)
}

// TestLongRun runs every default market for two simulated hours at one
// step a second: books stay two-sided after every step, the engine's
// invariants hold, trades flow in every market near the reference, and the
// funding Funding suggests is enough.
func TestLongRun(t *testing.T) {
	seed := testSeed(t)
	w := newWorld(t, defaultCfg(), seed, true)
	type acc struct {
		trades      int
		vol, notion float64 // for the volume-weighted average price
		refSum      float64
		maxDev      float64
	}
	stats := map[string]*acc{}
	for _, sym := range w.sim.Symbols() {
		stats[sym] = &acc{}
	}
	seen := 0
	const hours = 2
	for i := 0; i < hours*3600; i++ {
		w.step(time.Second)
		for _, sym := range w.sim.Symbols() {
			bid, ask := w.best(sym)
			if bid == 0 || ask == 0 {
				w.fatalf("%s: one-sided book: bid %d ask %d", sym, bid, ask)
			}
			stats[sym].refSum += float64(w.sim.Reference(sym))
		}
		for _, tr := range w.trades[seen:] {
			a := stats[tr.Market]
			ref := float64(w.sim.Reference(tr.Market))
			a.trades++
			a.vol += float64(tr.Amount)
			a.notion += float64(tr.Amount) * float64(tr.Price)
			a.maxDev = max(a.maxDev, math.Abs(float64(tr.Price)-ref)/ref)
		}
		seen = len(w.trades)
		if i%600 == 0 {
			w.check()
			for _, sym := range w.sim.Symbols() {
				bids, asks := w.x.Depth(w.ms.Index(sym), nil, nil, 0)
				if len(bids) < 5 || len(asks) < 5 {
					w.fatalf("%s: shallow book: %d bid and %d ask levels", sym, len(bids), len(asks))
				}
			}
		}
	}
	w.check()
	for _, sym := range w.sim.Symbols() {
		a := stats[sym]
		if a.trades < 50 {
			w.fatalf("%s: only %d trades in %d hours", sym, a.trades, hours)
		}
		vwap := a.notion / a.vol
		meanRef := a.refSum / (hours * 3600)
		if d := math.Abs(vwap-meanRef) / meanRef; d > 0.02 {
			w.fatalf("%s: average trade price %.0f is %.2f%% off the mean reference %.0f", sym, vwap, 100*d, meanRef)
		}
		if a.maxDev > 0.01 {
			w.fatalf("%s: a trade was %.2f%% off the reference", sym, 100*a.maxDev)
		}
		m := w.ms.Market(sym)
		t.Logf("%s: %d trades, volume %s, vwap %s, max deviation %.3f%%", sym, a.trades,
			m.FormatAmount(int64(a.vol)), m.FormatPrice(int64(vwap)), 100*a.maxDev)
	}
	st := w.sim.Stats()
	if st.Rejected != 0 || st.Lost != 0 {
		w.fatalf("stats %+v: the suggested funding ran short or commands were lost", st)
	}
	t.Logf("stats %+v, %.1f commands a second", st, float64(st.Commands)/(hours*3600))
}

func TestSetPriceRecentres(t *testing.T) {
	seed := testSeed(t)
	w := newWorld(t, defaultCfg(), seed, true)
	for i := 0; i < 60; i++ {
		w.step(time.Second)
	}
	for _, jump := range []struct {
		sym      string
		num, den int64
	}{{"btcusd", 1, 2}, {"ethusd", 3, 2}, {"ethbtc", 11, 10}} {
		m := w.ms.Market(jump.sym)
		target := roundTick(w.sim.Reference(jump.sym)*jump.num/jump.den, m.PriceTick)
		if err := w.sim.SetPrice(jump.sym, target); err != nil {
			w.fatalf("SetPrice: %v", err)
		}
		if got := w.sim.Reference(jump.sym); got != target {
			w.fatalf("%s: reference %d after SetPrice(%d)", jump.sym, got, target)
		}
		for i := 0; i < 10; i++ { // two refresh intervals
			w.step(time.Second)
		}
		ref := w.sim.Reference(jump.sym)
		if d := math.Abs(float64(ref-target)) / float64(target); d > 0.01 {
			w.fatalf("%s: reference %d drifted %.2f%% from %d in 10s", jump.sym, ref, 100*d, target)
		}
		// The ladder's centre lags the reference by up to RequoteBps plus
		// one refresh interval's move, so the mid is checked, not the sides.
		bid, ask := w.best(jump.sym)
		if bid == 0 || ask == 0 {
			w.fatalf("%s: one-sided book %d/%d after the jump", jump.sym, bid, ask)
		}
		if d := math.Abs(float64(bid+ask)/2-float64(ref)) / float64(ref); d > 0.005 {
			w.fatalf("%s: mid %d is %.2f%% off the new reference %d", jump.sym, (bid+ask)/2, 100*d, ref)
		}
		// No maker quote is left at the old prices.
		for _, o := range w.x.OpenOrders(DefaultMakerAccount) {
			if o.Market == jump.sym && math.Abs(float64(o.Price-ref))/float64(ref) > 0.05 {
				w.fatalf("%s: stale quote %+v after the jump to %d", jump.sym, o, ref)
			}
		}
	}
	w.check()
	if err := w.sim.SetPrice("dogeusd", 1); err == nil {
		t.Error("SetPrice of an unknown market: no error")
	}
	if err := w.sim.SetPrice("btcusd", 0); err == nil {
		t.Error("SetPrice 0: no error")
	}
}

func TestPauseResume(t *testing.T) {
	seed := testSeed(t)
	w := newWorld(t, defaultCfg(), seed, true)
	for i := 0; i < 120; i++ {
		w.step(DefaultTick)
	}
	w.sim.Pause()
	if !w.sim.Paused() {
		t.Fatal("not paused")
	}
	ref := w.sim.Reference("btcusd")
	trades := len(w.trades)
	for i := 0; i < 600; i++ {
		if n := w.step(time.Second); n != 0 {
			w.fatalf("paused Step returned %d commands", n)
		}
	}
	if got := w.sim.Reference("btcusd"); got != ref || len(w.trades) != trades {
		w.fatalf("while paused: reference %d -> %d, %d new trades", ref, got, len(w.trades)-trades)
	}
	w.sim.Resume()
	w.step(DefaultTick)
	if got := w.sim.Reference("btcusd"); got != ref {
		w.fatalf("reference jumped from %d to %d on resume: the pause was caught up on", ref, got)
	}
	n := 0
	for i := 0; i < 240; i++ {
		n += w.step(DefaultTick)
	}
	if n == 0 || len(w.trades) == trades {
		w.fatalf("after Resume: %d commands, %d trades", n, len(w.trades)-trades)
	}
	w.check()
}

// TestLongGapSkipped: a Step long after the previous one (a stalled
// process) simulates at most maxCatchUp of path and is bounded by
// MaxCommands.
func TestLongGapSkipped(t *testing.T) {
	seed := testSeed(t)
	w := newWorld(t, defaultCfg(), seed, true)
	w.step(time.Second)
	before := w.sim.t
	if n := w.step(6 * time.Hour); n > w.sim.cfg.MaxCommands {
		w.fatalf("%d commands after a gap", n)
	}
	if steps := (w.now.UnixNano() - before) / w.sim.dt; steps < 6*3600-1 {
		w.fatalf("grid did not reach the clock: %d steps", steps)
	}
	w.check()
}

func TestMaxCommands(t *testing.T) {
	seed := testSeed(t)
	cfg := defaultCfg()
	cfg.MaxCommands = 8
	w := newWorld(t, cfg, seed, true)
	for i := 0; i < 300; i++ {
		if n := w.step(time.Second); n > 8 {
			w.fatalf("Step returned %d commands, limit 8", n)
		}
	}
	for _, sym := range w.sim.Symbols() {
		if bid, ask := w.best(sym); bid == 0 || ask == 0 {
			w.fatalf("%s: one-sided book %d/%d with a small command budget", sym, bid, ask)
		}
	}
	w.check()
}

func TestUsersTradeWithBots(t *testing.T) {
	seed := testSeed(t)
	cfg := defaultCfg()
	for i := range cfg.Markets {
		cfg.Markets[i].Volatility = 0 // a flat reference: the takers always reach the user's order
	}
	w := newWorld(t, cfg, seed, true)
	for i := 0; i < 30; i++ {
		w.step(time.Second)
	}
	// A user's crossing IOC fills against the maker's asks.
	n := len(w.trades)
	r := w.place(user1, "btcusd", twinex.Buy, 100, "0.5", twinex.ImmediateOrCancel)
	if r.Err != nil || r.Order.Filled != r.Order.Amount {
		w.fatalf("user IOC: %+v, err %v", r.Order, r.Err)
	}
	for _, tr := range w.trades[n:] {
		if tr.MakerAccount != DefaultMakerAccount || tr.TakerAccount != user1 {
			w.fatalf("trade %+v: want the maker against user %d", tr, user1)
		}
	}
	// A user's resting order inside the spread is hit by the taker bot
	// (or by the maker, should the reference move through it).
	bid, ask := w.best("ethusd")
	m := w.ms.Market("ethusd")
	r = w.apply(engine.Command{Kind: engine.Place, AccountID: user2, Session: "UI", Market: w.ms.Index("ethusd"),
		Side: twinex.Sell, Type: twinex.Limit, Price: floorTick((bid+ask)/2, m.PriceTick), Amount: 500_000})
	if r.Err != nil || r.Order.Status != twinex.StatusLive {
		w.fatalf("user resting sell: %+v, err %v", r.Order, r.Err)
	}
	id := r.Order.ID
	for i := 0; i < 600; i++ {
		w.step(time.Second)
		if _, open := w.x.OpenOrder(id); !open {
			break
		}
	}
	if o, open := w.x.OpenOrder(id); open {
		w.fatalf("user's sell inside the spread still open after 10 minutes: %+v", o)
	}
	hit := false
	for _, tr := range w.trades {
		hit = hit || (tr.MakerOrderID == id || tr.TakerOrderID == id) && (tr.MakerAccount == DefaultTakerAccount ||
			tr.TakerAccount == DefaultTakerAccount || tr.MakerAccount == DefaultMakerAccount || tr.TakerAccount == DefaultMakerAccount)
	}
	if !hit {
		w.fatalf("the user's resting order did not trade with a bot")
	}
	w.check()
}

// TestUnfundedBots: bots without funds keep going without flooding: the
// maker quotes the side it can pay for, refused sides rest.
func TestUnfundedBots(t *testing.T) {
	seed := testSeed(t)
	w := newWorld(t, defaultCfg(), seed, false)
	w.must(engine.Command{Kind: engine.DepositFunds, AccountID: DefaultMakerAccount, Currency: "USD", Funds: 10_000_000 * twinex.Pow10(10)})
	cmds := 0
	for i := 0; i < 300; i++ {
		cmds += w.step(time.Second)
	}
	st := w.sim.Stats()
	if st.InsufficientFunds == 0 {
		w.fatalf("no InsufficientFunds refusals: %+v", st)
	}
	bid, ask := w.best("btcusd")
	if bid == 0 || ask != 0 {
		w.fatalf("btcusd book %d/%d: want the maker's bids only", bid, ask)
	}
	// The first quotes, then one retry of each refused side per ten
	// refresh intervals, plus takers (their expected number, with room)
	// and bid maintenance.
	var takers float64
	for _, mc := range defaultCfg().Markets {
		takers += mc.TakerRate * 300
	}
	if cmds > 1300+int(1.3*takers) {
		w.fatalf("%d commands in 5 minutes: refused quotes are retried too often (%+v)", cmds, st)
	}
	w.check()
	t.Logf("%d commands, stats %+v", cmds, st)
}

func BenchmarkStep(b *testing.B) {
	w := newWorld(b, defaultCfg(), 1, true)
	for i := 0; i < 60; i++ {
		w.step(DefaultTick)
	}
	perSec := int(time.Second / DefaultTick)
	var simNs time.Duration
	cmds := w.sim.Stats().Commands
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// One simulated second at the default tick, engine included.
		for j := 0; j < perSec; j++ {
			w.now = w.now.Add(DefaultTick)
			t := time.Now()
			out := w.sim.Step(w.now)
			simNs += time.Since(t)
			for _, c := range out {
				r := w.apply(c)
				t := time.Now()
				w.sim.Observe(c, r)
				simNs += time.Since(t)
			}
			w.batch.Reset()
			w.x.TakeChanges(&w.batch)
		}
	}
	b.StopTimer()
	total := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(total, "ns/simsec")
	b.ReportMetric(total/1e7, "%core")
	b.ReportMetric(float64(simNs.Nanoseconds())/float64(b.N), "sim-ns/simsec")
	b.ReportMetric(float64(w.sim.Stats().Commands-cmds)/float64(b.N), "cmds/simsec")
}
