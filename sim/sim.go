// Package sim is Twinex's market simulator: it keeps the sandbox's markets
// alive with bots that trade through the same engine as users.
//
// Per market there is a reference price path, either a geometric Brownian
// motion (annualised drift and volatility, advanced in fixed steps of
// Config.Dt, one second by default) or a replay of timestamped prices (see
// ParseReplayCSV and the synthetic SampleBTCUSD), interpolated linearly and
// looped. Around it, two kinds of bot act:
//
//   - A market maker keeps a ladder of Levels bids and Levels asks, the
//     inside ones of Size, each further level DepthGrowthPct of Size larger
//     (depth grows away from the mid). The inside quotes sit SpreadBps apart around the reference and
//     further levels LevelBps beyond each other. Every RefreshEvery it looks
//     again: when the reference has moved more than RequoteBps from the
//     ladder's centre, or the ladder is older than MaxQuoteAge, or a
//     command's outcome is unknown, it cancels the whole ladder (one
//     CancelSession on the market's own session "sim-<symbol>") and quotes
//     a fresh one; otherwise it replaces the levels it knows or believes
//     were hit (a Cancel, whose result tells what was left, then a Place).
//     The maker learns of fills only from its own commands' results and
//     from its taker's fills; users' fills are found at the next full
//     re-quote. Quotes are plain limit orders, so a quote that crosses a
//     user's off-market order trades with it, as a real maker would.
//   - A taker arrives at random (a Poisson process of TakerRate per second)
//     and sends an immediate-or-cancel order of random size up to
//     TakerMaxSize (with probability BigOrderProb a large one, up to
//     BigOrderSize, that sweeps several levels), priced TakerSlippageBps
//     through the reference, so it crosses the spread. Its side leans against the position it has built
//     (it buys less often when long), which keeps both bots' inventories
//     bounded without affecting the path.
//
// The bots are ordinary accounts (Config.MakerAccount and TakerAccount):
// their orders rest in the same books, users' orders trade with them, and
// their trades make candles and 24-hour volume. Funding them is the
// caller's job; Sim.Funding says what the configuration needs. A command
// refused for lack of funds is skipped: a maker side that ran short rests
// for ten refresh intervals before trying again, the taker just tries its
// next order.
//
// Sim is a deterministic state machine: no goroutines, no clock reads, no
// I/O. Step(now) advances the paths to now and returns the commands the
// bots want to send; Observe(cmd, result) reports what each did. The same
// seed, the same Step times and the same engine results (so the same user
// commands in between) give the same commands and so the same trades. The
// path depends only on the seed and the number of steps; it uses float64
// math (exp, normal deviates), so it is bit-for-bit reproducible on one
// platform, not necessarily across CPU architectures. Runner drives a Sim
// in real time against a Doer such as *core.Core.
//
// Money never uses floats: prices are converted from the path by rounding
// to the market's tick, ladder offsets are integer basis-point arithmetic
// rounded away from the reference, and sizes are integer multiples of the
// amount step (a random draw picks how many steps).
package sim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// Config configures a Sim.
type Config struct {
	Markets []MarketConfig
	// Seed makes a run reproducible.
	Seed uint64
	// MakerAccount and TakerAccount are the bots' ledger accounts; they must
	// differ (an account never trades with itself) and be positive.
	MakerAccount, TakerAccount int64
	// Dt is the path's step (default 1s).
	Dt time.Duration
	// MaxCommands bounds the commands one Step returns (default 200), so
	// that catching up after a stall does not flood the sequencer.
	MaxCommands int
	// BotFees, when set, are sent as SetFees for both bots by the first
	// Step. Zero fees keep the bots from bleeding to the fee account.
	BotFees *twinex.FeeRates
}

// MarketConfig configures one market's path and bots. Zero values of the
// optional fields take the defaults noted.
type MarketConfig struct {
	Symbol string
	// Start is the reference price at the start, a decimal ("30000"). It
	// is required for the "gbm" model.
	Start string
	// Model is "gbm" (default) or "replay".
	Model string
	// Drift and Volatility are the GBM's annualised mu and sigma (0.6 is
	// 60% a year). They shape the path only.
	Drift, Volatility float64
	// Replay is the path of the "replay" model (at least two points).
	Replay []PricePoint

	SpreadBps int    // inside bid to inside ask, in bps of the reference (default 10)
	LevelBps  int    // between further levels (default SpreadBps/2, at least 1)
	Levels    int    // levels per side (default 10)
	Size      string // amount of the inside level, decimal; required
	// DepthGrowthPct makes the ladder deeper away from the mid: level k
	// holds Size*(100+k*DepthGrowthPct)/100 (0: Size at every level).
	DepthGrowthPct int
	RefreshEvery   time.Duration // how often the maker looks at its ladder (default 5s)
	RequoteBps     int           // reference move that triggers a full re-quote (default SpreadBps/2, at least 1)
	MaxQuoteAge    time.Duration // full re-quote at least this often (default 60s)

	TakerRate        float64 // mean taker orders per second (0: no taker)
	TakerMaxSize     string  // largest taker order, decimal (default Size)
	TakerSlippageBps int     // taker limit beyond the reference (default SpreadBps/2 + 2*LevelBps + RequoteBps)
	// BigOrderProb is the chance that a taker order is a large one, of a
	// size drawn evenly between TakerMaxSize and BigOrderSize, which
	// sweeps several levels (0: never; BigOrderSize defaults to five
	// times TakerMaxSize).
	BigOrderProb float64
	BigOrderSize string

	// HistoryRate is the mean number of trades per minute in the
	// backfilled history (see Backfill; default DefaultHistoryRate, at
	// least 1 so that every minute has a candle).
	HistoryRate float64
}

// Default account ids of the bots: in the range reserved for the system
// (below twinex.FirstUserAccountID), next to the fee account.
const (
	DefaultMakerAccount int64 = 2
	DefaultTakerAccount int64 = 3
)

// DefaultConfig returns realistic settings for the built-in markets present
// in ms (other markets get no bots), seed 1, bots 2 and 3 with zero fees:
// each market its own price, volatility, spread, sizes and pace; btcusd
// trades about twice a second, the others less; ladders 40%
// deeper per level away from the mid; one taker order in 25 a large one.
func DefaultConfig(ms *twinex.Markets) Config {
	type d struct {
		start          string
		vol            float64
		spread, level  int
		size, takerMax string
		rate           float64
		history        float64 // backfilled trades per minute
	}
	table := map[string]d{
		"btcusd": {"30000", 0.6, 10, 5, "0.25", "0.2", 2, 6},
		"ethusd": {"2000", 0.75, 10, 5, "4", "3", 0.5, 5},
		"ethbtc": {"0.066", 0.5, 20, 10, "4", "3", 0.05, 3},
		"solusd": {"100", 0.9, 12, 6, "100", "80", 0.15, 3},
		"ltcusd": {"70", 0.8, 20, 10, "100", "80", 0.1, 3},
	}
	cfg := Config{
		Seed: 1, MakerAccount: DefaultMakerAccount, TakerAccount: DefaultTakerAccount,
		Dt: time.Second, MaxCommands: 200, BotFees: &twinex.FeeRates{},
	}
	for _, m := range ms.List {
		t, ok := table[m.Symbol]
		if !ok {
			continue
		}
		cfg.Markets = append(cfg.Markets, MarketConfig{
			Symbol: m.Symbol, Start: t.start, Model: "gbm", Volatility: t.vol,
			SpreadBps: t.spread, LevelBps: t.level, Levels: 10, Size: t.size,
			RefreshEvery: 5 * time.Second, RequoteBps: t.spread / 2, MaxQuoteAge: time.Minute,
			TakerRate: t.rate, TakerMaxSize: t.takerMax, HistoryRate: t.history,
			DepthGrowthPct: 40, BigOrderProb: 0.04,
		})
	}
	return cfg
}

// maxCatchUp is the longest stretch of path one Step simulates; a longer
// gap since the previous Step (a stalled process, a suspended machine) is
// skipped as if the Sim had been paused.
const maxCatchUp = time.Minute

// starveRefreshes is how many refresh intervals a maker side rests after a
// quote was refused for lack of funds.
const starveRefreshes = 10

// Stats counts what a Sim has done.
type Stats struct {
	Commands          int64 // returned by Step
	Rejected          int64 // observed with Result.Err set (but for a Cancel of a quote filled meanwhile)
	InsufficientFunds int64 // of which for lack of funds
	Lost              int64 // returned by Step but never observed
	Requotes          int64 // full re-quotes of a ladder
	TakerOrders       int64 // taker orders sent
	TakerFills        int64 // taker orders that traded
}

// Sim is the simulator's state machine; see the package comment. It is not
// safe for concurrent use (Runner serialises access).
type Sim struct {
	cfg      Config
	ms       *twinex.Markets
	mk       []*market
	bySymbol map[string]*market
	dt       int64

	started, paused, resync bool
	t                       int64 // path time, Unix ns, on the grid
	now                     int64 // the last Step's time
	feesPending             bool

	cmds  []engine.Command
	sent  []sent // what cmds are, for Observe
	head  int    // next entry of sent to observe
	stats Stats
}

// sentKind says what a returned command was for.
type sentKind uint8

const (
	sentFees sentKind = iota + 1
	sentCancelSession
	sentCancel
	sentQuote
	sentTaker
)

type sent struct {
	cmd   engine.Command
	kind  sentKind
	mkt   *market
	side  int // 0 bid, 1 ask
	level int
	gen   uint64
}

// New validates cfg against ms and returns a Sim. Errors name the market
// and field at fault.
func New(cfg Config, ms *twinex.Markets) (*Sim, error) {
	if cfg.MakerAccount <= 0 || cfg.TakerAccount <= 0 || cfg.MakerAccount == cfg.TakerAccount {
		return nil, errors.New("sim: maker and taker accounts must be two positive ids")
	}
	if cfg.Dt == 0 {
		cfg.Dt = time.Second
	}
	if cfg.Dt < time.Millisecond {
		return nil, errors.New("sim: Dt must be at least 1ms")
	}
	if cfg.MaxCommands == 0 {
		cfg.MaxCommands = 200
	}
	if cfg.MaxCommands < 4 {
		return nil, errors.New("sim: MaxCommands must be at least 4")
	}
	if cfg.BotFees != nil {
		f := *cfg.BotFees
		if f.MakerBps < 0 || f.TakerBps < 0 || f.MakerBps > twinex.MaxFeeBps || f.TakerBps > twinex.MaxFeeBps {
			return nil, errors.New("sim: BotFees out of range")
		}
	}
	s := &Sim{cfg: cfg, ms: ms, bySymbol: map[string]*market{}, dt: int64(cfg.Dt), feesPending: cfg.BotFees != nil}
	for _, mc := range cfg.Markets {
		m, err := newMarket(&s.cfg, ms, mc)
		if err != nil {
			return nil, fmt.Errorf("sim: market %s: %w", mc.Symbol, err)
		}
		if s.bySymbol[m.m.Symbol] != nil {
			return nil, fmt.Errorf("sim: market %s configured twice", m.m.Symbol)
		}
		s.bySymbol[m.m.Symbol] = m
		s.mk = append(s.mk, m)
	}
	return s, nil
}

// streamSeed derives a market's PRNG stream from the seed and its symbol,
// so that adding a market leaves the others' paths alone.
func streamSeed(seed uint64, symbol, purpose string) (uint64, uint64) {
	h := fnv.New64a()
	h.Write([]byte(symbol))
	h.Write([]byte{0})
	h.Write([]byte(purpose))
	return seed, h.Sum64()
}

// Step advances the reference paths to now, in steps of Dt, and returns the
// commands the bots want to send now, in order: maker commands of every
// market, then takers. The slice is valid until the next Step. Commands of
// the previous Step that were not passed to Observe are taken as lost. A
// paused Sim returns nothing and its paths stand still.
func (s *Sim) Step(now time.Time) []engine.Command {
	n := now.UnixNano()
	s.cmds = s.cmds[:0]
	s.dropUnobserved()
	if !s.started {
		s.started = true
		s.t = n
		for i, m := range s.mk {
			m.begin(n, i, len(s.mk))
		}
	}
	if s.paused {
		return nil
	}
	if gap := n - s.t; gap > 0 {
		switch {
		case s.resync:
			s.shift(gap - gap%s.dt)
		case gap > int64(maxCatchUp):
			skip := gap - int64(maxCatchUp)
			s.shift(skip - skip%s.dt)
		}
	}
	s.resync = false
	for s.t+s.dt <= n {
		s.t += s.dt
		for _, m := range s.mk {
			m.ref = m.path.step(s.t)
		}
	}
	s.now = n
	if s.feesPending {
		s.feesPending = false
		for _, a := range []int64{s.cfg.MakerAccount, s.cfg.TakerAccount} {
			s.emit(engine.Command{Kind: engine.SetFees, AccountID: a, Fees: *s.cfg.BotFees}, sent{kind: sentFees})
		}
	}
	for _, m := range s.mk {
		s.maker(m, n)
	}
	for _, m := range s.mk {
		s.takers(m, n)
	}
	return s.cmds
}

// shift moves the Sim's schedule d later without advancing the paths.
func (s *Sim) shift(d int64) {
	if d <= 0 {
		return
	}
	s.t += d
	for _, m := range s.mk {
		m.shift(d)
	}
}

// budget is how many more commands this Step may return.
func (s *Sim) budget() int { return s.cfg.MaxCommands - len(s.cmds) }

func (s *Sim) emit(c engine.Command, e sent) bool {
	if s.budget() <= 0 {
		return false
	}
	e.cmd = c
	s.cmds = append(s.cmds, c)
	s.sent = append(s.sent, e)
	s.stats.Commands++
	return true
}

// Observe reports the result of a command that Step returned. Commands must
// be observed in the order Step returned them; one that is skipped (its
// outcome unknown, say because the transport failed) is taken as lost, and
// the maker re-quotes that market from scratch. Commands the Sim did not
// send are ignored. cmd.Time may be stamped; it is not compared.
func (s *Sim) Observe(cmd engine.Command, res engine.Result) {
	cmd.Time = 0
	j := s.head
	for j < len(s.sent) && s.sent[j].cmd != cmd {
		j++
	}
	if j == len(s.sent) {
		return
	}
	for ; s.head < j; s.head++ {
		s.lost(&s.sent[s.head])
	}
	e := &s.sent[s.head]
	s.head++
	if res.Err != nil {
		switch reason := twinex.ErrorReason(res.Err); {
		case e.kind == sentCancel && reason == twinex.OrderNotFound:
			// The quote was filled meanwhile: expected, not a refusal.
		case reason == twinex.InsufficientFunds:
			s.stats.InsufficientFunds++
			s.stats.Rejected++
		default:
			s.stats.Rejected++
		}
	}
	switch e.kind {
	case sentQuote:
		e.mkt.observeQuote(e, res, s.now)
	case sentTaker:
		if res.Err == nil && res.Order.Filled > 0 {
			s.stats.TakerFills++
			e.mkt.observeTaker(&e.cmd, res.Order.Filled)
		}
	case sentCancel, sentCancelSession, sentFees:
		// A Cancel's OrderNotFound means the quote was filled (or is
		// otherwise gone); either way its level was re-placed already.
	}
}

func (s *Sim) dropUnobserved() {
	for ; s.head < len(s.sent); s.head++ {
		s.lost(&s.sent[s.head])
	}
	clear(s.sent)
	s.sent, s.head = s.sent[:0], 0
}

// lost handles a command whose outcome is unknown.
func (s *Sim) lost(e *sent) {
	s.stats.Lost++
	switch e.kind {
	case sentFees:
		s.feesPending = true
	case sentCancelSession, sentCancel, sentQuote:
		// An order may be resting that the maker does not know of; a
		// full re-quote cancels the session's orders, known or not.
		e.mkt.force = true
	}
}

// SetPrice jumps a market's reference to price (price units, rounded to the
// tick); the maker re-quotes around it at the next Step. For a replayed
// path the jump is kept as an offset to the replayed prices.
func (s *Sim) SetPrice(symbol string, price int64) error {
	m := s.market(symbol)
	if m == nil {
		return fmt.Errorf("sim: no simulated market %q", symbol)
	}
	if price <= 0 || price > m.maxPrice {
		return fmt.Errorf("sim: price %d out of range for %s", price, m.m.Symbol)
	}
	m.path.set(roundTick(price, m.m.PriceTick))
	m.ref = m.path.value()
	m.force = true
	return nil
}

// Reference returns a market's current reference price in price units, or
// 0 for a market the Sim does not run.
func (s *Sim) Reference(symbol string) int64 {
	if m := s.market(symbol); m != nil {
		return m.ref
	}
	return 0
}

// Pause stops the bots: Step returns no commands and the paths stand still.
// Resting quotes stay on the books.
func (s *Sim) Pause() { s.paused = true }

// Resume restarts the bots after Pause; the paths continue from where they
// stood, without catching up on the pause.
func (s *Sim) Resume() {
	if s.paused {
		s.paused, s.resync = false, true
	}
}

// Paused reports whether the Sim is paused.
func (s *Sim) Paused() bool { return s.paused }

// Stats returns counts of what the Sim has done.
func (s *Sim) Stats() Stats { return s.stats }

// Symbols returns the simulated markets' symbols, in order.
func (s *Sim) Symbols() []string {
	out := make([]string, len(s.mk))
	for i, m := range s.mk {
		out[i] = m.m.Symbol
	}
	return out
}

func (s *Sim) market(symbol string) *market {
	if mm := s.ms.Market(symbol); mm != nil {
		return s.bySymbol[mm.Symbol]
	}
	return nil
}

// Deposit is funding a bot account needs: Funds ledger units of Currency,
// as in an engine.DepositFunds command.
type Deposit struct {
	AccountID int64
	Currency  string
	Funds     int64
}

// Funding returns what the bots need to run the configuration for about a
// month without running short, per account and currency:
//
//   - maker, per market: base for ten full ask ladders (Levels*Size) and
//     quote for ten full bid ladders at twice the start price, room for the
//     inventory it takes on from takers and users;
//   - taker, per market: base and quote (at twice the start price) for
//     twenty of its largest orders, about twice the position at which it
//     leans hardest against its inventory, plus the quote it loses to the
//     spread in 30 days at TakerRate.
//
// It assumes zero bot fees (the DefaultConfig); with fees, the bots also
// pay them out of these balances. Amounts for a currency several markets
// share are summed.
func (s *Sim) Funding() []Deposit {
	type key struct {
		acct int64
		cur  string
	}
	sum := map[key]int64{}
	add := func(acct int64, cur string, v int64) { sum[key{acct, cur}] += v }
	for _, m := range s.mk {
		mm := m.m
		var ladder int64
		for _, sz := range m.sizes {
			ladder += sz
		}
		p2 := 2 * m.start
		add(s.cfg.MakerAccount, mm.Base, mm.BaseUnits(10*ladder))
		add(s.cfg.MakerAccount, mm.Quote, mm.Notional(p2, 10*ladder))
		if m.rate > 0 {
			add(s.cfg.TakerAccount, mm.Base, mm.BaseUnits(20*m.takerMax+5*m.bigMax))
			mean := mm.MinAmount + (m.takerMax-mm.MinAmount)/3
			perTrade := mm.Notional(m.start, mean) / 20000 * int64(m.spread+2*m.levelBps)
			trades := int64(m.rate * 30 * 86400)
			add(s.cfg.TakerAccount, mm.Quote, mm.Notional(p2, 20*m.takerMax+5*m.bigMax)+perTrade*trades)
		}
	}
	var out []Deposit
	for _, acct := range []int64{s.cfg.MakerAccount, s.cfg.TakerAccount} {
		for _, c := range s.ms.Currencies {
			if v := sum[key{acct, c.Code}]; v > 0 {
				out = append(out, Deposit{AccountID: acct, Currency: c.Code, Funds: v})
			}
		}
	}
	return out
}

// DepositCommands returns Funding as engine.DepositFunds commands.
func (s *Sim) DepositCommands() []engine.Command {
	var out []engine.Command
	for _, d := range s.Funding() {
		out = append(out, engine.Command{Kind: engine.DepositFunds, AccountID: d.AccountID, Currency: d.Currency, Funds: d.Funds, Method: "Simulator"})
	}
	return out
}

// newRand returns a PCG stream for one market and purpose.
func newRand(seed uint64, symbol, purpose string) *rand.Rand {
	return rand.New(rand.NewPCG(streamSeed(seed, symbol, purpose)))
}
