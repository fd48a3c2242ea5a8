package marketdata

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

// t0 is a pinned, day-aligned time (so aligned to every timeframe).
var t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()

const sec = int64(1e9)

type fixture struct {
	ms  *twinex.Markets
	s   *State
	id  int64
	all []twinex.Trade // every trade applied, in order
}

func newFixture() *fixture {
	ms := twinex.DefaultMarkets()
	return &fixture{ms: ms, s: New(ms)}
}

// trade returns the next trade of a market with an exact notional.
func (f *fixture) trade(symbol string, at, price, amount int64) twinex.Trade {
	f.id++
	m := f.ms.Market(symbol)
	return twinex.Trade{ID: f.id, Market: symbol, Price: price, Amount: amount, Notional: m.Notional(price, amount),
		TakerSide: twinex.Buy, Time: at}
}

// apply applies one trade, as the sequencer applies a batch's trades.
func (f *fixture) apply(symbol string, at, price, amount int64) twinex.Trade {
	t := f.trade(symbol, at, price, amount)
	f.s.Apply([]twinex.Trade{t})
	f.all = append(f.all, t)
	return t
}

func (f *fixture) index(t *testing.T, symbol string) int {
	t.Helper()
	i := f.ms.Index(symbol)
	if i < 0 {
		t.Fatalf("market %s is not configured", symbol)
	}
	return i
}

// refCandle is the candle of timeframe tf starting at start, computed
// naively from every trade of the market.
func refCandle(trades []twinex.Trade, market string, tf twinex.Timeframe, start int64) twinex.Candle {
	c := twinex.Candle{Market: market, Timeframe: tf.Name, Start: start}
	for _, t := range trades {
		if t.Market != market || t.Time < start || t.Time >= start+tf.Dur {
			continue
		}
		if c.Volume == 0 {
			c.Open, c.High, c.Low = t.Price, t.Price, t.Price
		}
		c.High, c.Low, c.Close = max(c.High, t.Price), min(c.Low, t.Price), t.Price
		c.Volume += t.Amount
		c.QuoteVolume = c.QuoteVolume.Add64(t.Notional)
	}
	return c
}

func TestCandles(t *testing.T) {
	f := newFixture()
	i := f.index(t, "btcusd")

	// Trades around every timeframe's first boundary: just before it, on
	// it, and a second after it.
	times := []int64{t0, t0 + 10*sec, t0 + 30*sec}
	for _, tf := range twinex.Timeframes {
		times = append(times, t0+tf.Dur-1, t0+tf.Dur, t0+tf.Dur+sec)
	}
	slices.Sort(times)
	times = slices.Compact(times)

	for n, at := range times {
		price := int64(360000 + 1000*((n*7)%11)) // wanders up and down
		amount := int64(1000 * (n + 1))
		tr := f.apply("btcusd", at, price, amount)
		for k, tf := range twinex.Timeframes {
			got := f.s.Candle(i, k)
			if got.Start%tf.Dur != 0 {
				t.Errorf("%s candle starts at %d, not a multiple of %d", tf.Name, got.Start, tf.Dur)
			}
			want := refCandle(f.all, "btcusd", tf, at-at%tf.Dur)
			if got != want {
				t.Errorf("after a trade at t0+%v: %s candle\n got %+v\nwant %+v", time.Duration(at-t0), tf.Name, got, want)
			}
			// On the boundary exactly, a new candle starts with this trade alone.
			if at == t0+tf.Dur {
				fresh := twinex.Candle{Market: "btcusd", Timeframe: tf.Name, Start: at, Open: price, High: price, Low: price,
					Close: price, Volume: amount, QuoteVolume: twinex.I128(tr.Notional)}
				if got != fresh {
					t.Errorf("the %s candle at its boundary is %+v, want a new one %+v", tf.Name, got, fresh)
				}
			}
			// One nanosecond before, the trade is still in the first candle.
			if at == t0+tf.Dur-1 && got.Start != t0 {
				t.Errorf("a trade 1ns before the %s boundary went to a candle starting at t0+%v", tf.Name, time.Duration(got.Start-t0))
			}
		}
	}

	// Other markets have no candles.
	if c := f.s.Candle(f.index(t, "ethusd"), 0); c != (twinex.Candle{}) {
		t.Errorf("ethusd has a candle %+v without trades", c)
	}
}

// takeCandles returns what TakeCandles appends, keyed by market, timeframe
// and start, failing on a duplicate.
func takeCandles(t *testing.T, s *State) map[string]twinex.Candle {
	t.Helper()
	var b twinex.Batch
	s.TakeCandles(&b)
	out := map[string]twinex.Candle{}
	for _, c := range b.Candles {
		k := fmt.Sprintf("%s %s %d", c.Market, c.Timeframe, c.Start)
		if _, dup := out[k]; dup {
			t.Errorf("TakeCandles returned %s twice", k)
		}
		out[k] = c
	}
	return out
}

func TestTakeCandles(t *testing.T) {
	f := newFixture()
	if got := takeCandles(t, f.s); len(got) != 0 {
		t.Errorf("TakeCandles of new state: %v", got)
	}

	check := func(what string, wantMarkets ...string) {
		t.Helper()
		got := takeCandles(t, f.s)
		want := map[string]twinex.Candle{}
		for _, sym := range wantMarkets {
			last := f.all[len(f.all)-1]
			for _, tr := range f.all {
				if tr.Market == sym {
					last = tr
				}
			}
			for _, tf := range twinex.Timeframes {
				c := refCandle(f.all, sym, tf, last.Time-last.Time%tf.Dur)
				want[fmt.Sprintf("%s %s %d", c.Market, c.Timeframe, c.Start)] = c
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: TakeCandles\n got %v\nwant %v", what, got, want)
		}
		if again := takeCandles(t, f.s); len(again) != 0 {
			t.Errorf("%s: a second TakeCandles returned %v, want nothing", what, again)
		}
	}

	f.apply("btcusd", t0+5*sec, 360000, 100)
	check("first trade", "btcusd")
	f.apply("btcusd", t0+6*sec, 361000, 100)
	f.apply("btcusd", t0+7*sec, 359000, 300)
	check("two trades in the same candles", "btcusd")
	f.apply("ethusd", t0+8*sec, 200000, 5)
	check("a trade in another market", "ethusd")
	f.apply("btcusd", t0+9*sec, 360500, 1)
	f.apply("ethusd", t0+9*sec, 200100, 5)
	check("both markets", "btcusd", "ethusd")
	f.apply("btcusd", t0+2*hour, 370000, 1)
	check("a trade in new candles of every timeframe but 1day", "btcusd")

	// Trades of unknown markets are ignored.
	f.s.Apply([]twinex.Trade{{ID: 999, Market: "nosuch", Price: 1, Amount: 1, Time: t0}})
	if got := takeCandles(t, f.s); len(got) != 0 {
		t.Errorf("a trade of an unknown market changed candles: %v", got)
	}
}

// TestTakeCandlesAcrossBoundary: one Apply (one sequencer batch) whose
// trades cross a candle boundary must still hand the closed candle's final
// state to the store.
func TestTakeCandlesAcrossBoundary(t *testing.T) {
	f := newFixture()
	f.apply("btcusd", t0+10*sec, 360000, 1)
	takeCandles(t, f.s)
	a, b := f.trade("btcusd", t0+50*sec, 365000, 2), f.trade("btcusd", t0+70*sec, 362000, 3)
	f.s.Apply([]twinex.Trade{a, b})
	f.all = append(f.all, a, b)
	got := takeCandles(t, f.s)
	want := refCandle(f.all, "btcusd", twinex.Timeframes[0], t0)
	if c, ok := got[fmt.Sprintf("btcusd 1m %d", t0)]; !ok || c != want {
		t.Errorf("the 1m candle closed in the batch was returned as %+v (%v), want %+v", c, ok, want)
	}
}

func TestStatsWindow(t *testing.T) {
	f := newFixture()
	i := f.index(t, "btcusd")
	now := t0 + 2*day
	f.apply("btcusd", now-25*hour, 500000, 1) // outside
	f.apply("btcusd", now-day, 600000, 2)     // outside: the window is (now-24h, now]
	in := []twinex.Trade{
		f.apply("btcusd", now-day+minute, 700000, 4), // the first inside: Open
		f.apply("btcusd", now-10*hour, 2000000, 8),   // High
		f.apply("btcusd", now-5*hour, 400000, 16),    // Low
		f.apply("btcusd", now-30*sec, 900000, 32),    // Last
	}
	var quote int64
	for _, tr := range in {
		quote += tr.Notional
	}
	got := f.s.Stats(i, now)
	want := Stats{Last: 900000, LastTime: now - 30*sec, Open: 700000, High: 2000000, Low: 400000,
		Volume: 4 + 8 + 16 + 32, QuoteVolume: twinex.I128(quote), Hourly: refHourly(f.all, "btcusd", now, 1)}
	if got != want {
		t.Errorf("Stats:\n got %+v\nwant %+v", got, want)
	}

	// A day later nothing is in the window; the last price stays.
	got = f.s.Stats(i, now+day)
	want = Stats{Last: 900000, LastTime: now - 30*sec}
	for h := range want.Hourly {
		want.Hourly[h] = 900000
	}
	if got != want {
		t.Errorf("Stats a day after the last trade:\n got %+v\nwant %+v", got, want)
	}

	// A market never traded has zero stats.
	if got := f.s.Stats(f.index(t, "ltcusd"), now); got != (Stats{}) {
		t.Errorf("Stats of a market without trades: %+v", got)
	}
}

// refHourly is Hourly computed naively: the price of the last trade at or
// before each mark now-h*1h, or 0. Times are first truncated to res (1 for
// exact times; minute for the resolution Stats works at, where a trade
// counts as of a mark when the minute it falls in starts at or before it).
func refHourly(trades []twinex.Trade, market string, now, res int64) [24]int64 {
	var out [24]int64
	for h := range out {
		mark := now - int64(h)*hour
		var last twinex.Trade
		for _, t := range trades {
			if t.Market == market && t.Time-t.Time%res <= mark && (last.ID == 0 || t.Time >= last.Time) {
				last = t
			}
		}
		out[h] = last.Price
	}
	return out
}

func TestStatsHourly(t *testing.T) {
	f := newFixture()
	i := f.index(t, "btcusd")
	now := t0 + 3*day
	f.apply("btcusd", now-5*hour-30*minute, 100000, 1) // the first trade
	f.apply("btcusd", now-5*hour-10*minute, 110000, 1)
	f.apply("btcusd", now-3*hour, 120000, 1) // on the 3h mark: counts as of it
	f.apply("btcusd", now-2*hour-sec, 130000, 1)
	// No trade from 2h to 30m before now: the 1h mark carries 130000.
	f.apply("btcusd", now-30*minute, 140000, 1)

	want := [24]int64{140000, 130000, 130000, 120000, 110000, 110000} // then 0: before the first trade
	if ref := refHourly(f.all, "btcusd", now, 1); ref != want {
		t.Fatalf("test bug: reference Hourly %v, want %v", ref, want)
	}
	if got := f.s.Stats(i, now).Hourly; got != want {
		t.Errorf("Hourly\n got %v\nwant %v", got, want)
	}

	// An hour later everything moves one slot.
	want = [24]int64{140000, 140000, 130000, 130000, 120000, 110000, 110000}
	if got := f.s.Stats(i, now+hour).Hourly; got != want {
		t.Errorf("Hourly an hour later\n got %v\nwant %v", got, want)
	}
}

// TestStatsHourlyBeforeWindow: a mark before the window's first trade is
// answered by the last trade before the window, which Stats only knows
// about when it is also the last trade of all.
func TestStatsHourlyBeforeWindow(t *testing.T) {
	f := newFixture()
	i := f.index(t, "btcusd")
	now := t0 + 3*day
	f.apply("btcusd", now-30*hour, 77000, 1)
	f.apply("btcusd", now-90*minute, 88000, 1)
	want := refHourly(f.all, "btcusd", now, 1)
	if got := f.s.Stats(i, now).Hourly; got != want {
		t.Errorf("Hourly\n got %v\nwant %v", got, want)
	}
}

// TestMinuteRingReuse: the 1440 minute buckets are reused every 24 hours; a
// reused bucket must start afresh.
func TestMinuteRingReuse(t *testing.T) {
	f := newFixture()
	i := f.index(t, "btcusd")
	f.apply("btcusd", t0+5*minute+10*sec, 100000, 10)
	f.apply("btcusd", t0+20*minute, 300000, 10)
	// The same bucket as the first trade, 24 hours later.
	tr := f.apply("btcusd", t0+day+5*minute+20*sec, 200000, 1)
	now := t0 + day + 6*minute
	got := f.s.Stats(i, now)
	// The trade at t0+20m is still in the window, the one at t0+5m is not.
	want := Stats{Last: 200000, LastTime: tr.Time, Open: 300000, High: 300000, Low: 200000, Volume: 11,
		QuoteVolume: twinex.I128(tr.Notional + f.all[1].Notional), Hourly: got.Hourly}
	if got != want {
		t.Errorf("Stats after reusing a bucket:\n got %+v\nwant %+v", got, want)
	}
	if got, want := got.Hourly, refHourly(f.all, "btcusd", now, 1); got != want {
		t.Errorf("Hourly after reusing a bucket\n got %v\nwant %v", got, want)
	}

	// Three days of trades every 7 minutes, each minute bucket reused
	// several times: the window holds exactly the last day's.
	f = newFixture()
	for at := t0; at < t0+3*day; at += 7 * minute {
		f.apply("btcusd", at+13*sec, 100000+(at/minute)%997, 1+(at/minute)%5)
	}
	for _, now := range []int64{t0 + day + 3*minute, t0 + 2*day, t0 + 3*day - 11*minute, t0 + 3*day + 5*hour} {
		got := f.s.Stats(i, now)
		want := refStats(f.all, "btcusd", now)
		if got != want {
			t.Errorf("Stats at t0+%v:\n got %+v\nwant %+v", time.Duration(now-t0), got, want)
		}
	}
}

// refStats is Stats computed naively from every trade, at the minute
// resolution Stats works at: a trade counts in the window when the minute
// it falls in starts in (now-24h, now]. now must be at or after every trade,
// and the trades must not leave a mark without a price in the window while
// an older trade exists (TestStatsHourlyBeforeWindow).
func refStats(trades []twinex.Trade, market string, now int64) Stats {
	var st Stats
	for _, t := range trades {
		if t.Market != market {
			continue
		}
		st.Last, st.LastTime = t.Price, t.Time
		if m := t.Time - t.Time%minute; m <= now-day || m > now {
			continue
		}
		if st.Volume == 0 {
			st.Open, st.High, st.Low = t.Price, t.Price, t.Price
		}
		st.High, st.Low = max(st.High, t.Price), min(st.Low, t.Price)
		st.Volume += t.Amount
		st.QuoteVolume = st.QuoteVolume.Add64(t.Notional)
	}
	st.Hourly = refHourly(trades, market, now, minute)
	return st
}

func TestTrades(t *testing.T) {
	f := newFixture()
	i := f.index(t, "solusd")
	if got := f.s.Trades(i); len(got) != 0 {
		t.Errorf("Trades of a new market: %v", got)
	}
	n := RecentTrades * 3 / 2
	for k := 1; k <= n; k++ {
		f.apply("solusd", t0+int64(k)*sec, int64(1000+k), 1)
		if k%2 == 0 {
			f.apply("ltcusd", t0+int64(k)*sec, 5000, 1) // another market does not interfere
		}
		got := f.s.Trades(i)
		want := min(k, RecentTrades)
		if len(got) != want {
			t.Fatalf("after %d trades, Trades returned %d, want %d", k, len(got), want)
		}
		for j, tr := range got {
			// Newest first: the price is the k of the trade.
			if wantK := int64(k - j); tr.Price != 1000+wantK || tr.Market != "solusd" {
				t.Fatalf("after %d trades, Trades[%d] is %+v, want the trade of k=%d", k, j, tr, wantK)
			}
		}
	}
}

func TestChanged(t *testing.T) {
	f := newFixture()
	i := f.index(t, "btcusd")
	if f.s.Changed(i) {
		t.Errorf("a new market reports a change")
	}
	f.apply("btcusd", t0, 360000, 1)
	if !f.s.Changed(i) {
		t.Errorf("a trade was not reported as a change")
	}
	if f.s.Changed(i) {
		t.Errorf("Changed did not clear")
	}
	if f.s.Changed(f.index(t, "ethusd")) {
		t.Errorf("a trade of btcusd changed ethusd")
	}
}

// TestRestore: a State restored from what a store keeps (the recent trades
// in any order, the 1m candles of the last day and the one before it, and the latest candle of each
// timeframe) answers like the State that saw the trades live.
func TestRestore(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	f := newFixture()
	symbols := []string{"btcusd", "ethusd"}

	// The store: trades, and the latest state of each candle. TakeCandles
	// runs after each trade, as after each batch (see
	// TestTakeCandlesAcrossBoundary for why not after several).
	stored := map[string]twinex.Candle{}
	take := func() {
		for k, c := range takeCandles(t, f.s) {
			stored[k] = c
		}
	}
	at := t0 + rng.Int64N(day)
	for n := 0; n < 1500; n++ {
		if rng.IntN(50) == 0 {
			at += rng.Int64N(3 * hour) // quiet hours
		} else {
			at += rng.Int64N(2 * minute)
		}
		sym := symbols[rng.IntN(2)]
		if n == 0 {
			sym = symbols[0]
		}
		f.apply(sym, at, 100000+rng.Int64N(5000), 1+rng.Int64N(100))
		take()
	}
	now := at + rng.Int64N(10*minute)

	r := New(f.ms)
	for _, sym := range symbols {
		var trades []twinex.Trade
		for _, tr := range f.all {
			if tr.Market == sym {
				trades = append(trades, tr)
			}
		}
		if len(trades) > RecentTrades {
			trades = trades[len(trades)-RecentTrades:]
		}
		rng.Shuffle(len(trades), func(a, b int) { trades[a], trades[b] = trades[b], trades[a] })

		var candles []twinex.Candle
		latest := map[string]twinex.Candle{}
		var before twinex.Candle // the newest 1m candle before the window
		for _, c := range stored {
			if c.Market != sym {
				continue
			}
			if c.Timeframe == "1m" && c.Start >= now-day {
				candles = append(candles, c)
			}
			if c.Timeframe == "1m" && c.Start < now-day && c.Start > before.Start {
				before = c
			}
			if c.Start >= latest[c.Timeframe].Start {
				latest[c.Timeframe] = c
			}
		}
		if before.Timeframe != "" {
			candles = append(candles, before)
		}
		for _, c := range latest {
			candles = append(candles, c)
		}
		rng.Shuffle(len(candles), func(a, b int) { candles[a], candles[b] = candles[b], candles[a] })
		r.Restore(sym, trades, candles)
	}
	r.Restore("nosuch", f.all[:1], nil) // ignored

	compare := func(what string, now int64) {
		t.Helper()
		for i, m := range f.ms.List {
			if got, want := r.Stats(i, now), f.s.Stats(i, now); got != want {
				t.Errorf("seed %d: %s: %s restored Stats\n got %+v\nwant %+v", seed, what, m.Symbol, got, want)
			}
			if got, want := r.Trades(i), f.s.Trades(i); !reflect.DeepEqual(got, want) {
				t.Errorf("seed %d: %s: %s restored Trades differ (%d and %d trades)", seed, what, m.Symbol, len(got), len(want))
			}
			for k, tf := range twinex.Timeframes {
				if got, want := r.Candle(i, k), f.s.Candle(i, k); got != want {
					t.Errorf("seed %d: %s: %s restored %s candle\n got %+v\nwant %+v", seed, what, m.Symbol, tf.Name, got, want)
				}
			}
		}
	}
	compare("after Restore", now)
	compare("an hour after Restore", now+hour)
	for _, sym := range symbols {
		if !r.Changed(f.ms.Index(sym)) {
			t.Errorf("Restore did not mark %s changed", sym)
		}
	}

	// Both go on the same way.
	takeCandles(t, r)
	for n := 0; n < 50; n++ {
		now += rng.Int64N(3 * minute)
		tr := f.apply(symbols[rng.IntN(2)], now, 100000+rng.Int64N(5000), 1+rng.Int64N(100))
		r.Apply([]twinex.Trade{tr})
		if got, want := takeCandles(t, r), takeCandles(t, f.s); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: after a new trade, restored TakeCandles\n got %v\nwant %v", seed, got, want)
		}
	}
	compare("after more trades", now)
}

// A day's quote volume is a sum of trade notionals and outgrows an int64 of
// quote ledger units ($922M of USD): candles and 24-hour stats keep it
// exactly.
func TestQuoteVolumePastInt64(t *testing.T) {
	f := newFixture()
	i := f.index(t, "btcusd")
	now := int64(1_700_000_000) * sec
	// Five trades of 9,000 BTC at 50,000.00: $450M each, $2.25B in all.
	for k := int64(0); k < 5; k++ {
		f.apply("btcusd", now-10*minute+k*minute, 5_000_000, 900_000_000_000)
	}
	want, _ := twinex.ParseUnits128("2250000000", f.ms.Currency("USD").Scale)
	if got := f.s.Stats(i, now).QuoteVolume; got != want {
		t.Errorf("24-hour quote volume %v, want %v", got, want)
	}
	daily := 0
	for _, c := range takeCandles(t, f.s) {
		if c.Timeframe == "1day" {
			daily++
			if c.QuoteVolume != want {
				t.Errorf("daily candle quote volume %v, want %v", c.QuoteVolume, want)
			}
		}
	}
	if daily != 1 {
		t.Errorf("%d daily candles, want 1", daily)
	}
}
