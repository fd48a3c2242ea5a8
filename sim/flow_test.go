package sim

import (
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// TestDefaultFlowLooksLikeAMarket runs the default configuration on a real
// engine for half an hour of simulated time (steps of 250ms, as the
// runner ticks) and checks the shape of the flow: btcusd trades at least
// once a second on average and in most seconds, the ladder's depth grows
// away from the mid, and larger orders come now and then.
func TestDefaultFlowLooksLikeAMarket(t *testing.T) {
	w := newWorld(t, defaultCfg(), testSeed(t), true)
	const dur = 30 * time.Minute
	for range int(dur / (250 * time.Millisecond)) {
		w.step(250 * time.Millisecond)
	}
	w.check()
	m := w.ms.Market("btcusd")
	perSecond := map[int64]int{}
	var btc int
	var big int
	takerMax, _ := m.ParseAmount("0.2")
	for _, tr := range w.trades {
		if tr.Market != "btcusd" {
			continue
		}
		btc++
		perSecond[tr.Time/1e9]++
		if tr.Amount > takerMax {
			big++
		}
	}
	secs := int(dur / time.Second)
	if rate := float64(btc) / float64(secs); rate < 1 {
		t.Errorf("btcusd: %.2f trades a second, want at least 1", rate)
	}
	if frac := float64(len(perSecond)) / float64(secs); frac < 0.75 {
		t.Errorf("btcusd traded in %.0f%% of the seconds, want most", 100*frac)
	}
	if big == 0 {
		t.Error("no larger trade in half an hour")
	}
	// Depth grows away from the mid: each level at least as large as the
	// one inside it, the outer ones larger than the inside.
	bids, asks := w.x.Depth(w.ms.Index("btcusd"), nil, nil, 0)
	for _, side := range [][]int64{levelsOf(bids), levelsOf(asks)} {
		if len(side) < 5 || side[len(side)-1] <= side[0] {
			t.Errorf("btcusd depth %v does not grow away from the mid", side)
		}
	}
	t.Logf("btcusd: %d trades in %v (%.2f/s), traded in %d of %d seconds, %d larger than %s",
		btc, dur, float64(btc)/float64(secs), len(perSecond), secs, big, m.FormatAmount(takerMax))
}

func levelsOf(ls []engine.Level) []int64 {
	out := make([]int64, len(ls))
	for i, l := range ls {
		out[i] = l.Amount
	}
	return out
}

// TestPerMarketParameters: each market follows its own settings (pace and
// depth).
func TestPerMarketParameters(t *testing.T) {
	cfg := defaultCfg()
	s, err := New(cfg, twinex.DefaultMarkets())
	if err != nil {
		t.Fatal(err)
	}
	btc, ltc := s.bySymbol["btcusd"], s.bySymbol["ltcusd"]
	if btc.rate <= ltc.rate || btc.sizes[0] == ltc.sizes[0] {
		t.Errorf("btcusd and ltcusd share their settings: %v/%v, %v/%v", btc.rate, ltc.rate, btc.sizes, ltc.sizes)
	}
	for _, mk := range s.mk {
		for k := 1; k < len(mk.sizes); k++ {
			if mk.sizes[k] <= mk.sizes[k-1] {
				t.Errorf("%s: level sizes %v do not grow", mk.m.Symbol, mk.sizes)
			}
		}
	}
}

// TestBotsFollowMarketStatus: on a post_only market the maker keeps a book
// of maker-or-cancel quotes and nothing trades; on a closed one the bots
// send few commands; reopened, the market trades again.
func TestBotsFollowMarketStatus(t *testing.T) {
	w := newWorld(t, defaultCfg(), testSeed(t), true)
	i := w.ms.Index("btcusd")
	run := func(d time.Duration) (trades, cmds int) {
		before := len(w.trades)
		for range int(d / (250 * time.Millisecond)) {
			cmds += w.step(250 * time.Millisecond)
		}
		for _, tr := range w.trades[before:] {
			if tr.Market == "btcusd" {
				trades++
			}
		}
		return trades, cmds
	}
	run(time.Minute)
	w.must(engine.Command{Kind: engine.SetMarketStatus, Market: i, Status: twinex.MarketPostOnly})
	run(10 * time.Second)
	if n, _ := run(time.Minute); n != 0 {
		t.Errorf("%d btcusd trades in post_only", n)
	}
	if bid, ask := w.best("btcusd"); bid == 0 || ask == 0 {
		t.Errorf("post_only book %d/%d: want the maker's quotes", bid, ask)
	}
	w.must(engine.Command{Kind: engine.SetMarketStatus, Market: i, Status: twinex.MarketClosed})
	n, cmds := run(time.Minute)
	t.Logf("closed: %d commands in a minute (all markets)", cmds)
	if n != 0 || cmds > 2000 {
		t.Errorf("closed: %d trades, %d commands in a minute", n, cmds)
	}
	w.must(engine.Command{Kind: engine.SetMarketStatus, Market: i, Status: twinex.MarketOpen})
	if n, _ := run(2 * time.Minute); n < 60 {
		t.Errorf("reopened: only %d btcusd trades in two minutes", n)
	}
	w.check()
}
