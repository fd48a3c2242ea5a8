package sim

import (
	"errors"
	"fmt"
	"math"
)

// Adjustment changes how a running market behaves, for scenarios: a
// volatility regime, a drift, wider spreads, liquidity pulled (a thin or
// one-sided book), a faster or slower flow. Nil fields keep their current
// value. The maker re-quotes at the next Step.
type Adjustment struct {
	Volatility *float64 // annualised sigma of the GBM (0..50)
	Drift      *float64 // annualised mu of the GBM (-100000..100000: minutes-long bleeds need large values)
	SpreadBps  *int     // inside bid to inside ask (1..5000)
	LevelBps   *int     // between further levels (1..1000)
	DepthPct   *int     // ladder sizes in percent of the configured ones (0..1000; 100 is normal, 10 thin)
	Sides      *string  // which sides the maker quotes: "both", "bids", "asks" or "none"
	TakerRate  *float64 // mean taker orders per second (0..100)
}

// Validate checks a's ranges; errors name the bad field.
func (a Adjustment) Validate() error {
	bad := func(f float64, lo, hi float64) bool { return math.IsNaN(f) || f < lo || f > hi }
	switch {
	case a.Volatility != nil && bad(*a.Volatility, 0, 50):
		return errors.New("sim: volatility must be within 0..50")
	case a.Drift != nil && bad(*a.Drift, -1e5, 1e5):
		return errors.New("sim: drift must be within -100000..100000")
	case a.SpreadBps != nil && (*a.SpreadBps < 1 || *a.SpreadBps > 5000):
		return errors.New("sim: spread_bps must be within 1..5000")
	case a.LevelBps != nil && (*a.LevelBps < 1 || *a.LevelBps > 1000):
		return errors.New("sim: level_bps must be within 1..1000")
	case a.DepthPct != nil && (*a.DepthPct < 0 || *a.DepthPct > 1000):
		return errors.New("sim: depth_pct must be within 0..1000")
	case a.TakerRate != nil && bad(*a.TakerRate, 0, 100):
		return errors.New("sim: taker_rate must be within 0..100")
	}
	if a.Sides != nil {
		switch *a.Sides {
		case "both", "bids", "asks", "none":
		default:
			return fmt.Errorf("sim: sides %q: want both, bids, asks or none", *a.Sides)
		}
	}
	return nil
}

// Adjust applies a to market symbol. Errors name the bad field; nothing
// changes then.
func (s *Sim) Adjust(symbol string, a Adjustment) error {
	mk := s.market(symbol)
	if mk == nil {
		return fmt.Errorf("sim: no simulated market %q", symbol)
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if a.DepthPct != nil {
		// Every size must stay a valid order at any price of the path.
		for _, b := range mk.baseSizes {
			if sz := b * int64(*a.DepthPct) / 100; sz > 0 && !mk.m.CheckNotional(mk.maxPrice, sz) {
				return errors.New("sim: depth_pct makes the ladder too large for the ledger")
			}
		}
	}
	if a.Volatility != nil {
		mk.vol = *a.Volatility
	}
	if a.Drift != nil {
		mk.drift = *a.Drift
	}
	mk.path.setParams(mk.drift, mk.vol)
	if a.SpreadBps != nil {
		mk.spread = *a.SpreadBps
	}
	if a.LevelBps != nil {
		mk.levelBps = *a.LevelBps
	}
	if a.DepthPct != nil {
		mk.depthPct = *a.DepthPct
		m := mk.m
		for k, b := range mk.baseSizes {
			sz := b * int64(mk.depthPct) / 100
			sz -= sz % m.AmountStep
			if sz > 0 {
				sz = max(sz, m.MinAmount)
			}
			mk.sizes[k] = sz
		}
	}
	if a.Sides != nil {
		mk.noBids = *a.Sides == "asks" || *a.Sides == "none"
		mk.noAsks = *a.Sides == "bids" || *a.Sides == "none"
	}
	if a.TakerRate != nil {
		mk.rate = *a.TakerRate
		mk.nextTaker = math.MaxInt64
		if mk.rate > 0 && s.started {
			mk.nextTaker = s.now + mk.interArrival()
		}
	}
	mk.force = true
	return nil
}

// Reseed restarts every market's random streams (path and flow) from
// seed, as if the Sim had been built with it: a scenario run from the
// same state with the same seed then gives the same trades.
func (s *Sim) Reseed(seed uint64) {
	s.cfg.Seed = seed
	for _, mk := range s.mk {
		mk.flow = newRand(seed, mk.m.Symbol, "flow")
		if !mk.path.replay {
			mk.path.rng = newRand(seed, mk.m.Symbol, "path")
		}
	}
}
