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
		h.Candles = append(h.Candles, candles(mk.m, ts)...)
	}
	// Merge by time (markets in order at equal times) and number them.
	for _, ts := range perMarket {
		h.Trades = append(h.Trades, ts...)
	}
	slices.SortStableFunc(h.Trades, func(a, b twinex.Trade) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		}
		return 0
	})
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

// poisson draws a Poisson number of mean lambda (Knuth's method; lambda
// is small here, a few trades a minute).
func poisson(rng interface{ Float64() float64 }, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 500 {
		// Normal approximation: exp(-lambda) would underflow.
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

// candles aggregates one market's trades (in time order) into the candles
// of every timeframe, the way marketdata does for live trades.
func candles(m *twinex.Market, trades []twinex.Trade) []twinex.Candle {
	var out []twinex.Candle
	for _, tf := range twinex.Timeframes {
		var c twinex.Candle
		for _, t := range trades {
			start := t.Time - t.Time%tf.Dur
			if c.Timeframe == "" || c.Start != start {
				if c.Timeframe != "" {
					out = append(out, c)
				}
				c = twinex.Candle{Market: m.Symbol, Timeframe: tf.Name, Start: start, Open: t.Price, High: t.Price, Low: t.Price}
			}
			c.High = max(c.High, t.Price)
			c.Low = min(c.Low, t.Price)
			c.Close = t.Price
			c.Volume += t.Amount
			c.QuoteVolume += t.Notional
		}
		if c.Timeframe != "" {
			out = append(out, c)
		}
	}
	return out
}
