package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/twinex/twinex"
)

// History is market-data-only history of the simulated markets: trades and
// the candles of every timeframe made from them. See Backfill.
type History struct {
	Trades  []twinex.Trade  // ascending by id and time
	Candles []twinex.Candle // every timeframe of every market, oldest first per market and timeframe
}

// CandleDepth is how far back Backfill makes candles of a timeframe, at
// least the span: a day of one-minute candles, 3 days of 5-minute, a week
// of 15-minute, two weeks of 30-minute, 30 days of hourly, 180 days of
// 6-hour and a year of daily candles, so that every timeframe's chart is
// full from the first request. Candles older than the span have no trades
// behind them (Gemini too keeps candles far longer than trades): they
// summarise the market's path, scaled so that it arrives at the configured
// start price when the span's trades begin.
func CandleDepth(tf twinex.Timeframe, span time.Duration) time.Duration {
	day := 24 * time.Hour
	d := span
	switch {
	case tf.Dur >= int64(day):
		d = max(d, 365*day)
	case tf.Dur >= int64(6*time.Hour):
		d = max(d, 180*day)
	case tf.Dur >= int64(time.Hour):
		d = max(d, 30*day)
	case tf.Dur >= int64(30*time.Minute):
		d = max(d, 14*day)
	case tf.Dur >= int64(15*time.Minute):
		d = max(d, 7*day)
	case tf.Dur >= int64(5*time.Minute):
		d = max(d, 3*day)
	}
	return d
}

// candleSince is where a timeframe's backfilled candles begin: from (the
// first trade's minute) for one-minute candles and for a replayed path,
// else CandleDepth before end, on a UTC day boundary (a multiple of every
// timeframe, so that the path's bars, coarser further back, always fall
// on the candles' boundaries).
func candleSince(tf twinex.Timeframe, span time.Duration, from, end int64, replay bool) int64 {
	if tf.Dur == int64(time.Minute) || replay {
		return from
	}
	day := int64(24 * time.Hour)
	since := end - int64(CandleDepth(tf, span))
	since -= since % day
	return min(since, from-from%tf.Dur)
}

// DefaultHistoryRate is the mean number of backfilled trades per minute of
// a market whose MarketConfig.HistoryRate is zero.
const DefaultHistoryRate = 6

// Backfill returns seeded history of the markets of cfg over the span
// before end: for each market, its reference path run from its start price
// over the span (a stream of its own, so the live path is unchanged), and
// at least one trade in every minute (1 + a Poisson number of mean
// HistoryRate-1), each at the maker's inside bid or ask around the path,
// of a size drawn like the taker's. The candles of every timeframe are
// aggregated from those trades, so they, the trades and the 24-hour
// figures agree. Trade ids run from firstID in time order.
//
// The history is market data only, not trades between accounts: its
// trades name no order and no account (ids 0) and pay no fee, and writing
// them must never touch a balance. Money moves only through the
// sequencer, and the sequencer stamps commands with the present; a past
// it never executed cannot have moved funds. The live simulator then
// continues each path from the history's last price.
// Candles go back further than the trades, by timeframe: see CandleDepth.
//
// The same cfg, markets, end and span give the same history.
func Backfill(cfg Config, ms *twinex.Markets, end time.Time, span time.Duration, firstID int64) (*History, error) {
	if span <= 0 {
		return &History{}, nil
	}
	if span > 366*24*time.Hour {
		return nil, errors.New("sim: backfill span must be at most a year")
	}
	if cfg.Dt == 0 {
		cfg.Dt = time.Second
	}
	endNs := end.UnixNano()
	from := endNs - int64(span)
	from -= from % int64(time.Minute)
	h := &History{}
	var perMarket [][]twinex.Trade
	for _, mc := range cfg.Markets {
		bcfg := cfg
		// A seed of its own: the history does not draw from the live
		// path's or flow's streams.
		bcfg.Seed = cfg.Seed ^ 0x6261636b66696c6c // "backfill"
		mk, err := newMarket(&bcfg, ms, mc)
		if err != nil {
			return nil, fmt.Errorf("sim: market %s: %w", mc.Symbol, err)
		}
		ts := mk.history(from, endNs, int64(cfg.Dt), mc.HistoryRate)
		perMarket = append(perMarket, ts)
		h.Candles = append(h.Candles, mk.candles(from, endNs, span, mc.HistoryRate, ts)...)
	}
	// Merge by time (markets in order at equal times) and number them.
	n := 0
	for _, ts := range perMarket {
		n += len(ts)
	}
	h.Trades = make([]twinex.Trade, 0, n)
	next := make([]int, len(perMarket))
	for len(h.Trades) < n {
		best := -1
		for k, ts := range perMarket {
			if next[k] < len(ts) && (best < 0 || ts[next[k]].Time < perMarket[best][next[best]].Time) {
				best = k
			}
		}
		h.Trades = append(h.Trades, perMarket[best][next[best]])
		next[best]++
	}
	for i := range h.Trades {
		h.Trades[i].ID = firstID + int64(i)
	}
	return h, nil
}

// history makes one market's trades over [from, end): per minute, 1 +
// Poisson(rate-1) trades at uniform times, sides at random, prices at the
// inside quotes around the path.
func (mk *market) history(from, end, dt int64, rate float64) []twinex.Trade {
	if rate <= 0 {
		rate = DefaultHistoryRate
	}
	rate = max(rate, 1)
	rng := newRand(mk.cfg.Seed, mk.m.Symbol, "history")
	mk.path.start(from)
	t := from
	ref := mk.path.value()
	m := mk.m
	steps := (mk.takerMax - m.MinAmount) / m.AmountStep
	var out []twinex.Trade
	var times []int64
	for minute := from; minute < end; minute += int64(time.Minute) {
		width := min(int64(time.Minute), end-minute)
		n := 1 + poisson(rng, (rate-1)*float64(width)/float64(time.Minute))
		times = times[:0]
		for range n {
			times = append(times, minute+rng.Int64N(width))
		}
		slices.Sort(times)
		for _, at := range times {
			for t+dt <= at {
				t += dt
				ref = mk.path.step(t)
			}
			buy := rng.Float64() < 0.5
			u := rng.Float64()
			amount := m.MinAmount + int64(float64(steps)*u*u)*m.AmountStep
			tr := twinex.Trade{Market: m.Symbol, Amount: amount, Time: at, TakerSide: twinex.Sell}
			if buy {
				tr.TakerSide, tr.Price = twinex.Buy, mk.askPrice(ref, 0, 0)
			} else {
				tr.Price = max(mk.bidPrice(ref, 0, 0), m.PriceTick)
			}
			tr.Price = min(tr.Price, mk.maxPrice)
			tr.Notional = m.Notional(tr.Price, tr.Amount)
			out = append(out, tr)
		}
	}
	return out
}

// poisson draws a Poisson number of mean lambda: Knuth's method for a
// small lambda (a few trades a minute), a normal approximation above 12
// (Knuth's costs one draw per unit of lambda).
func poisson(rng interface{ Float64() float64 }, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 12 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*normal(rng))))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// normal is a standard normal deviate (Box-Muller).
func normal(rng interface{ Float64() float64 }) float64 {
	u := 1 - rng.Float64()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*rng.Float64())
}

// bar is a span of the market: a trade, or a summary of the path.
type bar struct {
	t, o, h, l, c, vol, quote int64
}

// aggregator makes one timeframe's candles from bars in time order,
// ignoring those before since.
type aggregator struct {
	tf    twinex.Timeframe
	since int64
	cur   twinex.Candle
	out   []twinex.Candle
}

func (a *aggregator) add(sym string, b bar) {
	if b.t < a.since {
		return
	}
	start := b.t - b.t%a.tf.Dur
	if a.cur.Timeframe == "" || a.cur.Start != start {
		if a.cur.Timeframe != "" {
			a.out = append(a.out, a.cur)
		}
		a.cur = twinex.Candle{Market: sym, Timeframe: a.tf.Name, Start: start, Open: b.o, High: b.h, Low: b.l}
	}
	a.cur.High = max(a.cur.High, b.h)
	a.cur.Low = min(a.cur.Low, b.l)
	a.cur.Close = b.c
	a.cur.Volume += b.vol
	a.cur.QuoteVolume = a.cur.QuoteVolume.Add64(b.quote)
}

// candles makes the market's candles of every timeframe: from its trades
// over [from, end), and before from, back to each timeframe's
// CandleDepth, from summaries of a path run before the trades (a GBM
// market only; a replayed one has candles over the span alone).
func (mk *market) candles(from, end int64, span time.Duration, rate float64, trades []twinex.Trade) []twinex.Candle {
	aggs := make([]*aggregator, len(twinex.Timeframes))
	for k, tf := range twinex.Timeframes {
		aggs[k] = &aggregator{tf: tf, since: candleSince(tf, span, from, end, mk.path.replay)}
	}
	mk.deepBars(aggs, from, rate, func(b bar) {
		for _, a := range aggs {
			a.add(mk.m.Symbol, b)
		}
	})
	for _, t := range trades {
		b := bar{t: t.Time, o: t.Price, h: t.Price, l: t.Price, c: t.Price, vol: t.Amount, quote: t.Notional}
		for _, a := range aggs {
			a.add(mk.m.Symbol, b)
		}
	}
	var out []twinex.Candle
	for _, a := range aggs {
		if a.cur.Timeframe != "" {
			a.out = append(a.out, a.cur)
		}
		out = append(out, a.out...)
	}
	return out
}

// deepBars emits summaries of the market's path from the earliest
// candle's start to from, where the trades begin: bars as long as the
// shortest timeframe (but one minute) whose candles reach back that far,
// so a bar never straddles a candle. The path is a GBM of the market's
// drift and volatility run forward from the start price, then scaled so
// that its last close is the start price, where the trades take over;
// each bar's volume is a Poisson number of trades of the taker's mean
// size.
func (mk *market) deepBars(aggs []*aggregator, from int64, rate float64, emit func(bar)) {
	if rate <= 0 {
		rate = DefaultHistoryRate
	}
	start := from
	for _, a := range aggs {
		start = min(start, a.since)
	}
	if start >= from {
		return
	}
	// stepAt is the bar length at t: the shortest timeframe above a
	// minute whose candles have begun by t.
	stepAt := func(t int64) int64 {
		step := int64(24 * time.Hour)
		for _, a := range aggs {
			if a.tf.Dur > int64(time.Minute) && a.since <= t {
				step = min(step, a.tf.Dur)
			}
		}
		return step
	}
	walk := func(emit func(t int64, o, h, l, c float64, n int)) {
		rng := newRand(mk.cfg.Seed, mk.m.Symbol, "deep")
		price := float64(mk.start)
		for t := start; t < from; {
			step := min(stepAt(t), from-t)
			years := float64(step) / 1e9 / (365.25 * 86400)
			b := mk.vol * math.Sqrt(years)
			o := price
			price *= math.Exp((mk.drift-mk.vol*mk.vol/2)*years + b*rng.NormFloat64())
			price = min(max(price, float64(mk.m.PriceTick)), float64(mk.maxPrice))
			h := max(o, price) * math.Exp(math.Abs(rng.NormFloat64())*b/2)
			l := min(o, price) * math.Exp(-math.Abs(rng.NormFloat64())*b/2)
			n := 1 + poisson(rng, (max(rate, 1)-1)*float64(step)/float64(time.Minute))
			emit(t, o, h, l, price, n)
			t += step
		}
	}
	last := float64(mk.start)
	walk(func(_ int64, _, _, _, c float64, _ int) { last = c })
	scale := float64(mk.start) / last
	m := mk.m
	mean := m.MinAmount + (mk.takerMax-m.MinAmount)/3
	units := func(p float64) int64 {
		v := roundTick(int64(math.Round(p*scale)), m.PriceTick)
		return min(v, mk.maxPrice)
	}
	rng := newRand(mk.cfg.Seed, mk.m.Symbol, "deep-volume")
	walk(func(t int64, o, h, l, c float64, n int) {
		vol := int64(float64(n) * float64(mean) * (0.5 + rng.Float64()))
		vol = max(vol-vol%m.AmountStep, m.MinAmount)
		bb := bar{t: t, o: units(o), h: units(h), l: units(l), c: units(c), vol: vol}
		bb.h = max(bb.h, bb.o, bb.c)
		bb.l = min(bb.l, bb.o, bb.c)
		if m.CheckNotional(bb.c, vol) {
			bb.quote = m.Notional(bb.c, vol)
		}
		emit(bb)
	})
}
