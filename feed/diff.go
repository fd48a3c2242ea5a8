package feed

import (
	"sort"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
)

// mergeCandle merges one of the hub's candles into a history (newest
// first, from the store): it goes in front when newer than all, or
// replaces the stored copy of the same candle, or fills the gap where the
// store had none. The history given is not changed.
func mergeCandle(cs []twinex.Candle, c twinex.Candle) []twinex.Candle {
	if c.Timeframe == "" {
		return cs
	}
	i := sort.Search(len(cs), func(i int) bool { return cs[i].Start <= c.Start })
	out := make([]twinex.Candle, 0, len(cs)+1)
	out = append(out, cs[:i]...)
	out = append(out, c)
	if i < len(cs) && cs[i].Start == c.Start {
		i++ // the stored copy, replaced
	}
	return append(out, cs[i:]...)
}

// diff returns the level changes from snapshot a to b, bids then asks,
// best first. trades are the batch's trades in the market: a level that
// shrank at a traded price shrank by a trade.
func diff(a, b *core.Snapshot, trades []twinex.Trade) []Change {
	if a == nil || (sameLevels(a.Bids, b.Bids) && sameLevels(a.Asks, b.Asks)) {
		return nil
	}
	traded := func(p int64) bool {
		for _, t := range trades {
			if t.Price == p {
				return true
			}
		}
		return false
	}
	var out []Change
	out = diffSide(out, twinex.Buy, a.Bids, b.Bids, func(x, y int64) bool { return x > y }, traded)
	out = diffSide(out, twinex.Sell, a.Asks, b.Asks, func(x, y int64) bool { return x < y }, traded)
	return out
}

func sameLevels(a, b []engine.Level) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	for i := range a {
		if a[i].Price != b[i].Price || a[i].Amount != b[i].Amount {
			return false
		}
	}
	return true
}

func diffSide(out []Change, sd twinex.Side, old, cur []engine.Level, before func(x, y int64) bool, traded func(int64) bool) []Change {
	add := func(p, amt, delta int64) {
		r := "place"
		if delta < 0 {
			r = "cancel"
			if traded(p) {
				r = "trade"
			}
		}
		out = append(out, Change{Side: sd, Price: p, Amount: amt, Delta: delta, Reason: r})
	}
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && before(old[i].Price, cur[j].Price)):
			add(old[i].Price, 0, -old[i].Amount)
			i++
		case i == len(old) || before(cur[j].Price, old[i].Price):
			add(cur[j].Price, cur[j].Amount, cur[j].Amount)
			j++
		default:
			if old[i].Amount != cur[j].Amount {
				add(cur[j].Price, cur[j].Amount, cur[j].Amount-old[i].Amount)
			}
			i++
			j++
		}
	}
	return out
}
