package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// market is one simulated market: its path, the maker's ladder and the
// taker's schedule.
type market struct {
	m       *twinex.Market
	index   int // in Markets.List
	session string
	cfg     *Config

	path     *path
	start    int64 // price units
	maxPrice int64
	ref      int64

	// maker
	levels, spread, levelBps, requoteBps int
	size                                 int64
	sizes                                []int64 // per level, growing away from the mid
	refresh, maxAge                      int64   // ns
	bids, asks                           []quote
	gen                                  uint64 // ladder generation, bumped by each full re-quote
	quotedRef, quotedAt                  int64
	nextRefresh                          int64
	force                                bool     // full re-quote at the next Step
	starved                              [2]int64 // per side: no new quotes before this time
	// postOnly: the market refused a plain quote (MarketNotOpen), so the
	// maker quotes maker-or-cancel, as on a post_only market, until a
	// full re-quote MaxQuoteAge after postOnlyAt tries plain quotes again.
	postOnly   bool
	postOnlyAt int64
	// Set by Adjust (scenarios): the ladder's sizes are baseSizes scaled
	// by depthPct; noBids and noAsks pull a side.
	baseSizes      []int64
	depthPct       int
	noBids, noAsks bool
	drift, vol     float64

	// taker
	flow      *rand.Rand
	rate      float64
	takerMax  int64
	bigProb   float64
	bigMax    int64 // largest large order (0: none)
	slipBps   int
	nextTaker int64
	pos       int64 // net amount bought
	posScale  int64
}

// quote is one level of the maker's ladder as the maker believes it is.
type quote struct {
	state     quoteState
	id        int64
	price     int64
	remaining int64
}

type quoteState uint8

const (
	quoteNone    quoteState = iota // no price (the ladder ran into zero)
	quoteEmpty                     // to be placed
	quotePending                   // placed, result not yet observed
	quoteLive                      // resting, untouched as far as we know
	quoteTouched                   // (believed) filled in part or whole: replace
)

func newMarket(cfg *Config, ms *twinex.Markets, mc MarketConfig) (*market, error) {
	mm := ms.Market(mc.Symbol)
	if mm == nil {
		return nil, errors.New("no such market")
	}
	mk := &market{m: mm, index: ms.Index(mm.Symbol), session: "sim-" + mm.Symbol, cfg: cfg}
	if err := marketDefaults(&mc); err != nil {
		return nil, err
	}
	var err error
	if mk.size, err = mm.ParseAmount(mc.Size); err != nil {
		return nil, fmt.Errorf("Size: %w", err)
	}
	if mk.takerMax, err = mm.ParseAmount(mc.TakerMaxSize); err != nil {
		return nil, fmt.Errorf("TakerMaxSize: %w", err)
	}
	mk.levels, mk.spread, mk.levelBps, mk.requoteBps = mc.Levels, mc.SpreadBps, mc.LevelBps, mc.RequoteBps
	mk.refresh, mk.maxAge = int64(mc.RefreshEvery), int64(mc.MaxQuoteAge)
	mk.rate, mk.slipBps = mc.TakerRate, mc.TakerSlippageBps
	if mc.BigOrderProb > 0 {
		if mc.BigOrderSize == "" {
			mk.bigMax = 5 * mk.takerMax
		} else if mk.bigMax, err = mm.ParseAmount(mc.BigOrderSize); err != nil {
			return nil, fmt.Errorf("BigOrderSize: %w", err)
		}
		if mk.bigMax < mk.takerMax {
			return nil, errors.New("BigOrderSize must be at least TakerMaxSize")
		}
		mk.bigProb = mc.BigOrderProb
	}
	mk.sizes = make([]int64, mc.Levels)
	for k := range mk.sizes {
		sz := mk.size + mk.size*int64(k)*int64(mc.DepthGrowthPct)/100
		mk.sizes[k] = max(sz-sz%mm.AmountStep, mk.size)
	}
	mk.baseSizes, mk.depthPct = append([]int64(nil), mk.sizes...), 100
	mk.drift, mk.vol = mc.Drift, mc.Volatility
	mk.posScale = 10 * mk.takerMax
	mk.bids, mk.asks = make([]quote, mc.Levels), make([]quote, mc.Levels)
	mk.flow = newRand(cfg.Seed, mm.Symbol, "flow")

	if err := mk.openPath(cfg, mc); err != nil {
		return nil, err
	}
	mk.ref = mk.path.value()
	// Every order must be valid at any price the path may reach, and
	// Funding's sums must fit the ledger.
	big := max(mk.size, mk.takerMax, mk.bigMax)
	if len(mk.sizes) > 0 {
		big = max(big, mk.sizes[len(mk.sizes)-1])
	}
	if !mm.CheckNotional(mk.maxPrice, big) || !mm.CheckNotional(2*mk.start, big*20*int64(max(mc.Levels, 1))) {
		return nil, errors.New("sizes too large for the ledger at the price range")
	}
	mk.force = true
	return mk, nil
}

// marketDefaults fills in mc's zero settings and checks their ranges.
func marketDefaults(mc *MarketConfig) error {
	if mc.SpreadBps == 0 {
		mc.SpreadBps = 10
	}
	if mc.LevelBps == 0 {
		mc.LevelBps = max(mc.SpreadBps/2, 1)
	}
	if mc.Levels == 0 {
		mc.Levels = 10
	}
	if mc.RefreshEvery == 0 {
		mc.RefreshEvery = 5 * time.Second
	}
	if mc.RequoteBps == 0 {
		mc.RequoteBps = max(mc.SpreadBps/2, 1)
	}
	if mc.MaxQuoteAge == 0 {
		mc.MaxQuoteAge = time.Minute
	}
	if mc.TakerSlippageBps == 0 {
		mc.TakerSlippageBps = mc.SpreadBps/2 + 2*mc.LevelBps + mc.RequoteBps
	}
	if mc.TakerMaxSize == "" {
		mc.TakerMaxSize = mc.Size
	}
	switch {
	case mc.SpreadBps < 0 || mc.SpreadBps > 5000, mc.LevelBps < 0 || mc.LevelBps > 1000:
		return errors.New("SpreadBps must be within 0..5000 and LevelBps within 0..1000")
	case mc.Levels < 0 || mc.Levels > 100:
		return errors.New("Levels must be within 0..100")
	case mc.RefreshEvery < time.Millisecond || mc.MaxQuoteAge < 0:
		return errors.New("RefreshEvery must be at least 1ms and MaxQuoteAge not negative")
	case mc.RequoteBps < 0 || mc.TakerSlippageBps < 0 || mc.TakerSlippageBps > 5000:
		return errors.New("RequoteBps must not be negative and TakerSlippageBps must be within 0..5000")
	case mc.TakerRate < 0 || mc.TakerRate > 100 || math.IsNaN(mc.TakerRate):
		return errors.New("TakerRate must be within 0..100 per second")
	case mc.DepthGrowthPct < 0 || mc.DepthGrowthPct > 1000:
		return errors.New("DepthGrowthPct must be within 0..1000")
	case mc.BigOrderProb < 0 || mc.BigOrderProb > 1 || math.IsNaN(mc.BigOrderProb):
		return errors.New("BigOrderProb must be within 0..1")
	case mc.HistoryRate < 0 || mc.HistoryRate > 6000 || math.IsNaN(mc.HistoryRate):
		return errors.New("HistoryRate must be within 0..6000 per minute")
	case mc.Volatility < 0 || mc.Volatility > 10 || math.Abs(mc.Drift) > 10 || math.IsNaN(mc.Volatility) || math.IsNaN(mc.Drift):
		return errors.New("Volatility must be within 0..10 and Drift within -10..10")
	}
	return nil
}

// openPath makes the market's price path by mc's model and sets its start
// and ceiling.
func (mk *market) openPath(cfg *Config, mc MarketConfig) error {
	var err error
	switch mc.Model {
	case "", "gbm":
		if mk.start, err = parsePathPrice(mk.m, mc.Start); err != nil {
			return fmt.Errorf("Start: %w", err)
		}
		mk.maxPrice, err = maxPrice(mk.start, mk.m)
		if err != nil {
			return err
		}
		mk.path = newGBM(newRand(cfg.Seed, mk.m.Symbol, "path"), mk.start, mk.m.PriceTick, mk.maxPrice, mc.Drift, mc.Volatility, cfg.Dt.Seconds())
	case "replay":
		if len(mc.Replay) == 0 {
			return errors.New("the replay model needs Replay points")
		}
		first, err := parsePathPrice(mk.m, mc.Replay[0].Price)
		if err != nil {
			return fmt.Errorf("Replay: %w", err)
		}
		mk.start = first
		if mk.maxPrice, err = maxPrice(first, mk.m); err != nil {
			return err
		}
		if mk.path, err = newReplay(mk.m, mc.Replay, mk.maxPrice); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown model %q (want gbm or replay)", mc.Model)
	}
	return nil
}

// maxPrice is the ceiling of a path: 100 times its start, bounded so that
// basis-point arithmetic on it cannot overflow.
func maxPrice(start int64, m *twinex.Market) (int64, error) {
	const limit = 1 << 44 // times 2*10^4 bps times a few levels still fits
	if start > limit/100 {
		return 0, fmt.Errorf("start price too large for the simulator")
	}
	return start * 100 / m.PriceTick * m.PriceTick, nil
}

// begin anchors the market's schedule at the first Step: the path and the
// first taker start now; refreshes are phased across markets so that they
// do not all fall in one tick.
func (mk *market) begin(now int64, i, n int) {
	mk.path.start(now)
	mk.nextRefresh = now + mk.refresh + mk.refresh*int64(i)/int64(n)
	mk.nextTaker = math.MaxInt64
	if mk.rate > 0 {
		mk.nextTaker = now + mk.interArrival()
	}
}

func (mk *market) shift(d int64) {
	mk.path.shift(d)
	mk.nextRefresh += d
	if mk.nextTaker != math.MaxInt64 {
		mk.nextTaker += d
	}
	mk.quotedAt += d
	mk.starved[0] += d
	mk.starved[1] += d
}

func (mk *market) interArrival() int64 {
	return max(1, int64(mk.flow.ExpFloat64()/mk.rate*1e9))
}

func floorTick(p, tick int64) int64 { return p - p%tick }

// bidPrice and askPrice are level k of a ladder centred on ref: the inside
// is SpreadBps/2 from ref, further levels LevelBps apart, rounded away from
// ref to the tick, at least one tick from ref and from the level before.
// bidPrice returns 0 when the ladder would reach zero.
func (mk *market) bidPrice(ref int64, k int, prev int64) int64 {
	tick := mk.m.PriceTick
	off := ref * int64(mk.spread+2*k*mk.levelBps) / 20000
	p := floorTick(ref-off, tick)
	p = min(p, ref-tick)
	if k > 0 {
		p = min(p, prev-tick)
	}
	return max(p, 0)
}

func (mk *market) askPrice(ref int64, k int, prev int64) int64 {
	tick := mk.m.PriceTick
	off := (ref*int64(mk.spread+2*k*mk.levelBps) + 19999) / 20000
	p := floorTick(ref+off+tick-1, tick)
	p = max(p, ref+tick)
	if k > 0 {
		p = max(p, prev+tick)
	}
	return p
}

// maker runs the market maker for one Step.
func (s *Sim) maker(mk *market, now int64) {
	if mk.levels == 0 {
		return
	}
	due := now >= mk.nextRefresh
	for mk.nextRefresh <= now {
		mk.nextRefresh += mk.refresh // refresh > 0: New set the default
	}
	if !due && !mk.force {
		return
	}
	moved := absDiff(mk.ref, mk.quotedRef)*10000 > int64(mk.requoteBps)*mk.quotedRef
	if mk.force || mk.quotedRef == 0 || moved || now-mk.quotedAt >= mk.maxAge {
		s.requote(mk, now)
	} else {
		s.repair(mk, now)
	}
}

// requote cancels the market's whole ladder and quotes a fresh one around
// the reference, inside level first, alternating sides, so that a Step cut
// short by MaxCommands still leaves a two-sided book.
func (s *Sim) requote(mk *market, now int64) {
	if s.budget() < 1 {
		mk.force = true
		return
	}
	mk.force = false
	if mk.postOnly && now-mk.postOnlyAt >= mk.maxAge {
		mk.postOnly = false // the market may have reopened
	}
	mk.gen++
	s.stats.Requotes++
	s.emit(engine.Command{Kind: engine.CancelSession, AccountID: s.cfg.MakerAccount, Session: mk.session}, sent{kind: sentCancelSession, mkt: mk})
	mk.quotedRef, mk.quotedAt = mk.ref, now
	var pb, pa int64
	for k := 0; k < mk.levels; k++ {
		pb = mk.bidPrice(mk.ref, k, pb)
		pa = mk.askPrice(mk.ref, k, pa)
		mk.bids[k] = quote{state: quoteEmpty, price: pb}
		if pb == 0 || mk.noBids || mk.sizes[k] == 0 {
			mk.bids[k].state = quoteNone
		}
		mk.asks[k] = quote{state: quoteEmpty, price: pa}
		if mk.noAsks || mk.sizes[k] == 0 {
			mk.asks[k].state = quoteNone
		}
	}
	s.repair(mk, now)
}

// repair replaces the levels that were hit and places the empty ones, at
// the ladder's own prices (its centre moves only with a full re-quote, so
// new quotes never cross the maker's old ones).
func (s *Sim) repair(mk *market, now int64) {
	for k := 0; k < mk.levels; k++ {
		for side, q := range [2]*quote{&mk.bids[k], &mk.asks[k]} {
			switch q.state {
			case quoteTouched:
				if s.budget() < 2 {
					return
				}
				s.emit(engine.Command{Kind: engine.Cancel, AccountID: s.cfg.MakerAccount, OrderID: q.id}, sent{kind: sentCancel, mkt: mk})
				q.state = quoteEmpty
				fallthrough
			case quoteEmpty:
				if now < mk.starved[side] {
					continue
				}
				if !s.placeQuote(mk, side, k) {
					return
				}
			}
		}
	}
}

func (s *Sim) placeQuote(mk *market, side, k int) bool {
	q := mk.level(side, k)
	sd := twinex.Buy
	if side == 1 {
		sd = twinex.Sell
	}
	c := engine.Command{Kind: engine.Place, AccountID: s.cfg.MakerAccount, Session: mk.session,
		Market: mk.index, Side: sd, Type: twinex.Limit, Price: q.price, Amount: mk.sizes[k]}
	if mk.postOnly {
		c.Option = twinex.MakerOrCancel
	}
	if !s.emit(c, sent{kind: sentQuote, mkt: mk, side: side, level: k, gen: mk.gen}) {
		return false
	}
	q.state, q.id, q.remaining = quotePending, 0, mk.sizes[k]
	return true
}

func (mk *market) level(side, k int) *quote {
	if side == 0 {
		return &mk.bids[k]
	}
	return &mk.asks[k]
}

// observeQuote records the outcome of a quote.
func (mk *market) observeQuote(e *sent, res engine.Result, now int64) {
	if e.gen != mk.gen {
		return // a later re-quote replaced the ladder
	}
	q := mk.level(e.side, e.level)
	if res.Err != nil {
		q.state = quoteEmpty
		switch twinex.ErrorReason(res.Err) {
		case twinex.InsufficientFunds:
			mk.starved[e.side] = now + starveRefreshes*max(mk.refresh, int64(time.Second))
		case twinex.MarketNotOpen:
			// Closed, cancel_only or post_only: try maker-or-cancel
			// quotes (post_only takes them), and rest a side that
			// refuses those too (closed, cancel_only).
			if e.cmd.Option != twinex.MakerOrCancel {
				if !mk.postOnly {
					mk.postOnly, mk.postOnlyAt, mk.force = true, now, true
				}
			} else {
				mk.starved[e.side] = now + 2*max(mk.refresh, int64(time.Second))
			}
		}
		return
	}
	o := res.Order
	switch {
	case o.Status != twinex.StatusLive:
		q.state = quoteEmpty // traded away at once (it crossed a user's order)
	case o.Remaining() < o.Amount:
		q.state, q.id, q.remaining = quoteTouched, o.ID, o.Remaining()
	default:
		q.state, q.id, q.remaining = quoteLive, o.ID, o.Remaining()
	}
}

// observeTaker books a taker fill: the position, and the maker levels the
// fill most likely consumed (best first, within the taker's limit). Users'
// orders at better prices may have taken part of it; the replacement's
// Cancel then finds the quote still there, which costs nothing.
func (mk *market) observeTaker(c *engine.Command, filled int64) {
	ladder := mk.asks
	if c.Side == twinex.Sell {
		ladder = mk.bids
		mk.pos -= filled
	} else {
		mk.pos += filled
	}
	for k := range ladder {
		q := &ladder[k]
		if filled <= 0 {
			break
		}
		if (c.Side == twinex.Buy && q.price > c.Price) || (c.Side == twinex.Sell && q.price < c.Price) {
			break
		}
		if q.state != quoteLive && q.state != quoteTouched {
			continue
		}
		take := min(filled, q.remaining)
		q.remaining -= take
		filled -= take
		q.state = quoteTouched
	}
}

// takers sends the taker orders that arrived by now.
func (s *Sim) takers(mk *market, now int64) {
	for mk.nextTaker <= now {
		if s.budget() <= 0 {
			// Over budget: the arrivals of this Step are dropped.
			mk.nextTaker = now + mk.interArrival()
			return
		}
		mk.nextTaker += mk.interArrival()
		s.taker(mk)
	}
}

// taker sends one immediate-or-cancel order. It buys with probability
// 1/2 - 0.4*pos/posScale (clamped), its size is MinAmount plus a u^2-skewed
// number of amount steps up to TakerMaxSize, and its limit is
// TakerSlippageBps through the reference.
func (s *Sim) taker(mk *market) {
	lean := float64(mk.pos) / float64(mk.posScale)
	lean = min(max(lean, -1), 1)
	buy := mk.flow.Float64() < 0.5-0.4*lean
	u := mk.flow.Float64()
	m := mk.m
	steps := (mk.takerMax - m.MinAmount) / m.AmountStep
	size := m.MinAmount + int64(float64(steps)*u*u)*m.AmountStep
	// Now and then a large order, drawn only when configured so that
	// other configurations keep their streams.
	if mk.bigProb > 0 && mk.flow.Float64() < mk.bigProb {
		extra := (mk.bigMax - mk.takerMax) / m.AmountStep
		size = mk.takerMax + int64(float64(extra)*mk.flow.Float64())*m.AmountStep
	}
	ref, tick := mk.ref, m.PriceTick
	off := ref * int64(mk.slipBps) / 10000
	c := engine.Command{Kind: engine.Place, AccountID: s.cfg.TakerAccount, Session: "sim",
		Market: mk.index, Type: twinex.Limit, Option: twinex.ImmediateOrCancel, Amount: size}
	if buy {
		c.Side, c.Price = twinex.Buy, floorTick(ref+off, tick)
	} else {
		c.Side, c.Price = twinex.Sell, max(floorTick(ref-off+tick-1, tick), tick)
	}
	s.stats.TakerOrders++
	s.emit(c, sent{kind: sentTaker, mkt: mk})
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}
