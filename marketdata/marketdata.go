// Package marketdata maintains each market's public statistics from the
// trades the sequencer produces: last trade, 24-hour volume and range, hourly
// prices, recent trades and candles for every timeframe. Like the engine it
// is pure state driven by stamped inputs (no clock, no I/O, no goroutines);
// the sequencer owns it, adds its changed candles to each batch, and
// publishes immutable Snapshots for readers.
package marketdata

import (
	"math"
	"math/big"

	"github.com/twinex/twinex"
)

// RecentTrades is how many trades per market are kept in memory.
const RecentTrades = 500

const (
	minute  = int64(60e9)
	hour    = 60 * minute
	day     = 24 * hour
	buckets = 1440 // one per minute of the last 24 hours
)

type bucket struct {
	start                  int64
	open, high, low, close int64
	volume                 int64
	quoteVolume            twinex.Int128 // sums of trade notionals outgrow an int64
}

type market struct {
	m       *twinex.Market
	minutes [buckets]bucket
	current []twinex.Candle // per timeframe, the latest candle
	dirty   []bool
	closed  []twinex.Candle // candles that closed since the last TakeCandles while still unsaved
	evicted bucket          // the newest minute no longer in the ring: the price before the window
	trades  []twinex.Trade  // ring, oldest first once full
	next    int             // ring position of the next write once full
	last    twinex.Trade
	changed bool
}

// State is the market data of all markets.
type State struct {
	markets []*market
	index   map[string]int
}

// New returns empty market data for the given markets.
func New(ms *twinex.Markets) *State {
	s := &State{index: map[string]int{}}
	for i, m := range ms.List {
		s.markets = append(s.markets, &market{
			m:       m,
			current: make([]twinex.Candle, len(twinex.Timeframes)),
			dirty:   make([]bool, len(twinex.Timeframes)),
			trades:  make([]twinex.Trade, 0, RecentTrades),
		})
		s.index[m.Symbol] = i
	}
	return s
}

// Restore loads what a store kept: the market's recent trades (any order),
// its 1m candles of the last day, and the latest candle of each timeframe.
func (s *State) Restore(symbol string, trades []twinex.Trade, candles []twinex.Candle) {
	i, ok := s.index[symbol]
	if !ok {
		return
	}
	mk := s.markets[i]
	// Oldest first, keeping the newest RecentTrades.
	sorted := append([]twinex.Trade(nil), trades...)
	for a := 1; a < len(sorted); a++ {
		for b := a; b > 0 && sorted[b].ID < sorted[b-1].ID; b-- {
			sorted[b], sorted[b-1] = sorted[b-1], sorted[b]
		}
	}
	if len(sorted) > RecentTrades {
		sorted = sorted[len(sorted)-RecentTrades:]
	}
	for _, t := range sorted {
		mk.push(t)
	}
	for _, c := range candles {
		for k, tf := range twinex.Timeframes {
			if tf.Name != c.Timeframe {
				continue
			}
			if c.Start >= mk.current[k].Start {
				mk.current[k] = c
			}
			if k == 0 {
				b := &mk.minutes[(c.Start/minute)%buckets]
				if c.Start < b.start && c.Start > mk.evicted.start {
					mk.evicted = bucket{start: c.Start, close: c.Close}
				}
				if c.Start >= b.start {
					if c.Start > b.start && b.start > mk.evicted.start {
						mk.evicted = *b // an older minute of the same slot
					}
					*b = bucket{start: c.Start, open: c.Open, high: c.High, low: c.Low, close: c.Close, volume: c.Volume, quoteVolume: c.QuoteVolume}
				}
			}
		}
	}
	mk.changed = true
}

func (mk *market) push(t twinex.Trade) {
	if len(mk.trades) < RecentTrades {
		mk.trades = append(mk.trades, t)
	} else {
		mk.trades[mk.next] = t
		mk.next = (mk.next + 1) % RecentTrades
	}
	if t.ID > mk.last.ID {
		mk.last = t
	}
}

// Apply records trades (in the order they happened).
func (s *State) Apply(trades []twinex.Trade) {
	for i := range trades {
		t := &trades[i]
		mi, ok := s.index[t.Market]
		if !ok {
			continue
		}
		mk := s.markets[mi]
		mk.push(*t)
		mk.changed = true
		for k, tf := range twinex.Timeframes {
			start := t.Time - t.Time%tf.Dur
			c := &mk.current[k]
			if c.Start != start || c.Timeframe == "" {
				if mk.dirty[k] && c.Timeframe != "" {
					mk.closed = append(mk.closed, *c) // its last trades are not stored yet
				}
				*c = twinex.Candle{Market: t.Market, Timeframe: tf.Name, Start: start, Open: t.Price, High: t.Price, Low: t.Price}
			}
			c.High = max(c.High, t.Price)
			c.Low = min(c.Low, t.Price)
			c.Close = t.Price
			c.Volume = satAdd(c.Volume, t.Amount)
			c.QuoteVolume = c.QuoteVolume.Add64(t.Notional)
			mk.dirty[k] = true
		}
		b := &mk.minutes[(t.Time/minute)%buckets]
		if start := t.Time - t.Time%minute; b.start != start {
			if b.start > mk.evicted.start {
				mk.evicted = *b
			}
			*b = bucket{start: start, open: t.Price, high: t.Price, low: t.Price}
		}
		b.high = max(b.high, t.Price)
		b.low = min(b.low, t.Price)
		b.close = t.Price
		b.volume = satAdd(b.volume, t.Amount)
		b.quoteVolume = b.quoteVolume.Add64(t.Notional)
	}
}

// satAdd adds two non-negative volumes, stopping at the int64 maximum:
// money recycles between accounts, so traded volume has no bound, and a
// volume that wrapped negative would be worse than one that saturates.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// TakeCandles appends the candles changed since the last call to b.
func (s *State) TakeCandles(b *twinex.Batch) {
	for _, mk := range s.markets {
		b.Candles = append(b.Candles, mk.closed...)
		mk.closed = mk.closed[:0]
		for k, d := range mk.dirty {
			if d {
				mk.dirty[k] = false
				b.Candles = append(b.Candles, mk.current[k])
			}
		}
	}
}

// Changed reports whether market i has new trades since it was last
// snapshotted, and clears the flag.
func (s *State) Changed(i int) bool {
	c := s.markets[i].changed
	s.markets[i].changed = false
	return c
}

// Stats are a market's figures over the 24 hours before a time.
type Stats struct {
	Last        int64 // last trade price (0: never traded)
	LastTime    int64
	Open        int64 // first trade price in the window (0: no trades)
	High, Low   int64
	Volume      int64         // base, market amount units
	QuoteVolume twinex.Int128 // quote ledger units
	Hourly      [24]int64     // last price as of now, 1h ago, ... 23h ago (0: none yet)
}

// DayRange returns the 24-hour open, high and low: the window's when it
// had trades, else the last price for all three (0 if never traded).
func (st Stats) DayRange() (open, high, low int64) {
	if st.Open == 0 {
		return st.Last, st.Last, st.Last
	}
	return st.Open, st.High, st.Low
}

// Change returns the 24-hour change as a fraction, (last-open)/open with
// four decimals rounded half away from zero ("0.0244", "-0.0100"); "0.0000"
// when the market never traded.
func (st Stats) Change() string {
	open, _, _ := st.DayRange()
	return FractionChange(st.Last, open)
}

// FractionChange returns (last-open)/open with four decimals, rounded half
// away from zero ("0.0244", "-0.0100", "0.0000").
func FractionChange(last, open int64) string {
	if open <= 0 || last <= 0 {
		return "0.0000"
	}
	v := new(big.Rat).SetFrac(big.NewInt(last-open), big.NewInt(open)).FloatString(4)
	if v == "-0.0000" {
		v = "0.0000"
	}
	return v
}

// Stats computes market i's 24-hour statistics as of now.
func (s *State) Stats(i int, now int64) Stats {
	mk := s.markets[i]
	st := Stats{Last: mk.last.Price, LastTime: mk.last.Time}
	from := now - day
	var firstStart int64
	for k := range mk.minutes {
		b := &mk.minutes[k]
		if b.start == 0 || b.start <= from || b.start > now {
			continue
		}
		st.Volume = satAdd(st.Volume, b.volume)
		st.QuoteVolume = st.QuoteVolume.Add(b.quoteVolume)
		if st.High == 0 || b.high > st.High {
			st.High = b.high
		}
		if st.Low == 0 || b.low < st.Low {
			st.Low = b.low
		}
		if firstStart == 0 || b.start < firstStart {
			firstStart, st.Open = b.start, b.open
		}
	}
	// Hourly: the close of the latest minute at or before each hour mark
	// now-h*1h. Group the minutes by how many whole hours before now they
	// start; the answer for h is the latest minute among groups >= h.
	var groupStart, groupClose [24]int64
	for k := range mk.minutes {
		b := &mk.minutes[k]
		if b.start == 0 || b.start <= from || b.start > now {
			continue
		}
		g := (now - b.start) / hour
		if g < 24 && b.start > groupStart[g] {
			groupStart[g], groupClose[g] = b.start, b.close
		}
	}
	// Before any minute of the window, the price is the close of the
	// newest minute before it: still in the ring, or evicted from it.
	bestStart, bestClose := mk.evicted.start, mk.evicted.close
	for k := range mk.minutes {
		b := &mk.minutes[k]
		if b.start != 0 && b.start <= from && b.start > bestStart {
			bestStart, bestClose = b.start, b.close
		}
	}
	if bestStart > from {
		bestStart, bestClose = 0, 0
	}
	for h := 23; h >= 0; h-- {
		if groupStart[h] > bestStart {
			bestStart, bestClose = groupStart[h], groupClose[h]
		}
		st.Hourly[h] = bestClose
	}
	return st
}

// Trades returns market i's recent trades, newest first.
func (s *State) Trades(i int) []twinex.Trade {
	mk := s.markets[i]
	out := make([]twinex.Trade, 0, len(mk.trades))
	n := len(mk.trades)
	for k := 0; k < n; k++ {
		// newest is just before next (ring) or at the end (filling).
		j := (mk.next - 1 - k + 2*n) % n
		if n < RecentTrades {
			j = n - 1 - k
		}
		out = append(out, mk.trades[j])
	}
	return out
}

// Candle returns market i's latest candle of timeframe k (Timeframes index).
func (s *State) Candle(i, k int) twinex.Candle { return s.markets[i].current[k] }
