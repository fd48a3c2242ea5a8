package sim

import (
	"reflect"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/marketdata"
)

var historyEnd = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// TestBackfillReproducible: the same configuration, end and span give the
// same history; another seed gives another.
func TestBackfillReproducible(t *testing.T) {
	ms := twinex.DefaultMarkets()
	cfg := DefaultConfig(ms)
	a, err := Backfill(cfg, ms, historyEnd, 6*time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Backfill(cfg, ms, historyEnd, 6*time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two backfills with the same seed differ")
	}
	cfg.Seed = 2
	c, err := Backfill(cfg, ms, historyEnd, 6*time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Trades, c.Trades) {
		t.Fatal("another seed gave the same history")
	}
}

// TestBackfillShape: trades numbered in time order, market data only (no
// account, order or fee), every minute of every market traded so every
// timeframe's candles cover the span without a gap, and the candles are
// the trades' aggregates.
func TestBackfillShape(t *testing.T) {
	ms := twinex.DefaultMarkets()
	cfg := DefaultConfig(ms)
	span := 6 * time.Hour
	h, err := Backfill(cfg, ms, historyEnd, span, 100)
	if err != nil {
		t.Fatal(err)
	}
	from := historyEnd.Add(-span).UnixNano()
	from -= from % int64(time.Minute)
	for i, tr := range h.Trades {
		if tr.ID != 100+int64(i) || (i > 0 && tr.Time < h.Trades[i-1].Time) {
			t.Fatalf("trade %d: id %d time %d out of order", i, tr.ID, tr.Time)
		}
		if tr.MakerAccount != 0 || tr.TakerAccount != 0 || tr.MakerOrderID != 0 || tr.TakerOrderID != 0 || tr.MakerFee != 0 || tr.TakerFee != 0 {
			t.Fatalf("trade %+v names an account, an order or a fee", tr)
		}
		m := ms.Market(tr.Market)
		if tr.Time < from || tr.Time >= historyEnd.UnixNano() || tr.Price%m.PriceTick != 0 || tr.Amount < m.MinAmount || tr.Amount%m.AmountStep != 0 || tr.Notional != m.Notional(tr.Price, tr.Amount) {
			t.Fatalf("trade %+v is not a valid trade of %s in the span", tr, m.Symbol)
		}
	}
	minutes := int((historyEnd.UnixNano() - from + int64(time.Minute) - 1) / int64(time.Minute))
	for _, m := range ms.List {
		for _, tf := range twinex.Timeframes {
			var got []twinex.Candle
			for _, c := range h.Candles {
				if c.Market == m.Symbol && c.Timeframe == tf.Name {
					got = append(got, c)
				}
			}
			first := candleSince(tf, span, from, historyEnd.UnixNano(), false)
			last := (historyEnd.UnixNano() - 1) - (historyEnd.UnixNano()-1)%tf.Dur
			if want := int((last-first)/tf.Dur) + 1; len(got) != want {
				t.Fatalf("%s %s: %d candles, want %d (no gaps)", m.Symbol, tf.Name, len(got), want)
			}
			for i, c := range got {
				if c.Start != first+int64(i)*tf.Dur {
					t.Fatalf("%s %s candle %d starts at %d", m.Symbol, tf.Name, i, c.Start)
				}
				if c.Low <= 0 || c.Low > min(c.Open, c.Close) || c.High < max(c.Open, c.Close) || c.Volume <= 0 {
					t.Fatalf("%s %s candle %+v is malformed", m.Symbol, tf.Name, c)
				}
				if c.Start < from {
					continue // before the trades: a summary of the path (TestBackfillDeepCandles)
				}
				var vol, quote int64
				high, low := int64(0), int64(1<<62)
				var open, closing int64
				for _, tr := range h.Trades {
					if tr.Market != m.Symbol || tr.Time < c.Start || tr.Time >= c.Start+tf.Dur {
						continue
					}
					if open == 0 {
						open = tr.Price
					}
					closing = tr.Price
					vol += tr.Amount
					quote += tr.Notional
					high, low = max(high, tr.Price), min(low, tr.Price)
				}
				if c.Open != open || c.Close != closing || c.High != high || c.Low != low || c.Volume != vol || c.QuoteVolume != twinex.I128(quote) {
					t.Fatalf("%s %s candle %+v is not its trades' aggregate", m.Symbol, tf.Name, c)
				}
			}
			if tf.Name == "1m" && len(got) != minutes {
				t.Fatalf("%s: %d minutes, want %d", m.Symbol, len(got), minutes)
			}
		}
	}
}

// TestBackfillAgreesWithStats: the 24-hour figures marketdata computes
// from the history are the history's own (last, volume, open, high, low).
func TestBackfillAgreesWithStats(t *testing.T) {
	ms := twinex.DefaultMarkets()
	h, err := Backfill(DefaultConfig(ms), ms, historyEnd, 24*time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	md := marketdata.New(ms)
	md.Apply(h.Trades)
	now := historyEnd.UnixNano()
	for i, m := range ms.List {
		st := md.Stats(i, now)
		var want marketdata.Stats
		for _, tr := range h.Trades {
			if tr.Market != m.Symbol {
				continue
			}
			want.Last = tr.Price
			// The window is the minutes that start after now-24h.
			if tr.Time-tr.Time%int64(time.Minute) <= now-int64(24*time.Hour) {
				continue
			}
			if want.Open == 0 {
				want.Open = tr.Price
			}
			want.Volume += tr.Amount
			want.High = max(want.High, tr.Price)
			if want.Low == 0 || tr.Price < want.Low {
				want.Low = tr.Price
			}
		}
		if st.Last != want.Last || st.Volume != want.Volume || st.Open != want.Open || st.High != want.High || st.Low != want.Low || st.Volume == 0 {
			t.Errorf("%s: stats %+v, history %+v", m.Symbol, st, want)
		}
	}
}

// TestBackfillFollowsThePath: the history's prices stay around the
// market's path: within the inside spread of a GBM started at the
// configured price (the first trade near the start price).
func TestBackfillFollowsThePath(t *testing.T) {
	ms := twinex.DefaultMarkets()
	cfg := DefaultConfig(ms)
	h, err := Backfill(cfg, ms, historyEnd, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, mc := range cfg.Markets {
		m := ms.Market(mc.Symbol)
		start, _ := m.ParsePrice(mc.Start)
		for _, tr := range h.Trades {
			if tr.Market == m.Symbol {
				if d := absDiff(tr.Price, start); d*10000 > start*int64(mc.SpreadBps+10) {
					t.Errorf("%s: first trade %d is far from the start %d", m.Symbol, tr.Price, start)
				}
				break
			}
		}
	}
}

// TestBackfillDeepCandles: the candles before the trades go back to each
// timeframe's depth and arrive at the start price where the trades begin.
func TestBackfillDeepCandles(t *testing.T) {
	ms := twinex.DefaultMarkets()
	cfg := DefaultConfig(ms)
	h, err := Backfill(cfg, ms, historyEnd, 24*time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	from := historyEnd.Add(-24 * time.Hour).UnixNano()
	from -= from % int64(time.Minute)
	count := map[string]int{}
	var lastDeep twinex.Candle
	for _, c := range h.Candles {
		if c.Market != "btcusd" {
			continue
		}
		count[c.Timeframe]++
		if c.Timeframe == "5m" && c.Start+int64(5*time.Minute) <= from && c.Start > lastDeep.Start {
			lastDeep = c
		}
	}
	want := map[string]int{"1m": 1440, "5m": 3 * 288, "15m": 7 * 96, "30m": 14 * 48, "1hr": 30 * 24, "6hr": 180 * 4, "1day": 365}
	for tf, n := range want {
		perDay := int(24 * time.Hour / time.Minute)
		for _, x := range twinex.Timeframes {
			if x.Name == tf {
				perDay = int(int64(24*time.Hour) / x.Dur)
			}
		}
		if count[tf] < n || count[tf] > n+perDay+1 { // the start is on a day boundary
			t.Errorf("btcusd %s: %d candles, want about %d", tf, count[tf], n)
		}
	}
	if start, _ := ms.Market("btcusd").ParsePrice(cfg.Markets[0].Start); absDiff(lastDeep.Close, start)*100 > start {
		t.Errorf("the path before the trades ends at %d, not near the start price %d", lastDeep.Close, start)
	}
}

func TestBackfillZeroSpan(t *testing.T) {
	ms := twinex.DefaultMarkets()
	h, err := Backfill(DefaultConfig(ms), ms, historyEnd, 0, 1)
	if err != nil || len(h.Trades) != 0 || len(h.Candles) != 0 {
		t.Fatalf("zero span: %v, %d trades", err, len(h.Trades))
	}
}
