// Package scenario scripts a sandbox market over time: price jumps and
// drifts, volatility regimes, liquidity pulled (a thin or one-sided book),
// wider spreads, market status changes, maintenance windows and faults,
// each at a given time from the start. A scenario is a JSON file:
//
//	{"name": "flash-crash", "seed": 7, "market": "btcusd",
//	 "steps": [
//	   {"at": "20s", "price_pct": -12, "volatility": 4, "depth_pct": 15, "sides": "asks"},
//	   {"at": "50s", "price_pct": 9, "volatility": 0.6, "depth_pct": 100, "sides": "both"}]}
//
// Step fields (all optional but at): market (default the scenario's),
// price (a decimal) or price_pct (a jump relative to the reference),
// volatility and drift_pct_per_hour (the path's regime), spread_bps,
// level_bps, depth_pct (ladder sizes in percent of normal), sides (both,
// bids, asks, none), taker_rate (orders a second), status (a market
// status), maintenance (a duration: every API request gets 503
// Maintenance from now for that long), fault (a fault rule as in
// faults.json, lasting "for" if given) and note.
//
// The package is pure: Parse reads a scenario, Apply performs one step on
// a Target, and Play runs the steps in time on a clock it is given. The
// scenario's seed reseeds the simulator when it starts, so the same
// scenario from the same state gives the same trades (the simulator is a
// deterministic state machine; see package sim).
package scenario

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/fault"
	"github.com/twinex/twinex/sim"
)

// Scenario is a parsed scenario file.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Seed        uint64 `json:"seed"`
	Market      string `json:"market"` // the steps' default market
	Steps       []Step `json:"steps"`  // sorted by At
}

// Step is one scripted change; see the package comment.
type Step struct {
	At              Duration    `json:"at"`
	Market          string      `json:"market"`
	Price           string      `json:"price"`
	PricePct        *float64    `json:"price_pct"`
	Volatility      *float64    `json:"volatility"`
	DriftPctPerHour *float64    `json:"drift_pct_per_hour"`
	SpreadBps       *int        `json:"spread_bps"`
	LevelBps        *int        `json:"level_bps"`
	DepthPct        *int        `json:"depth_pct"`
	Sides           *string     `json:"sides"`
	TakerRate       *float64    `json:"taker_rate"`
	Status          string      `json:"status"`
	Maintenance     Duration    `json:"maintenance"`
	Fault           *fault.Spec `json:"fault"`
	For             Duration    `json:"for"`
	Note            string      `json:"note"`
}

// Duration is a time.Duration written as a Go duration string ("90s").
type Duration time.Duration

// UnmarshalJSON reads "90s", "2m", "1h30m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`want a duration such as "90s"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration such as 90s", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// MaxLength bounds a scenario's last step.
const MaxLength = 24 * time.Hour

// Parse reads a scenario strictly (unknown fields are errors) and checks
// it against the markets: every step's market exists, its values are in
// range, at least one step, steps within MaxLength. Steps are sorted by
// At (steps at the same time keep their order).
func Parse(r io.Reader, ms *twinex.Markets) (*Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if len(sc.Steps) == 0 {
		return nil, errors.New("scenario: no steps")
	}
	for i := range sc.Steps {
		st := &sc.Steps[i]
		if err := st.check(&sc, ms); err != nil {
			return nil, fmt.Errorf("scenario: step %d (at %s): %w", i+1, time.Duration(st.At), err)
		}
	}
	slices.SortStableFunc(sc.Steps, func(a, b Step) int { return int(a.At - b.At) })
	return &sc, nil
}

func (st *Step) check(sc *Scenario, ms *twinex.Markets) error {
	if st.Market == "" {
		st.Market = sc.Market
	}
	st.Market = strings.ToLower(st.Market)
	if time.Duration(st.At) > MaxLength {
		return fmt.Errorf("at must be at most %s", MaxLength)
	}
	needsMarket := st.Price != "" || st.PricePct != nil || st.adjusts() || st.Status != ""
	if needsMarket && ms.Market(st.Market) == nil {
		return fmt.Errorf("unknown market %q", st.Market)
	}
	if st.Price != "" {
		if _, err := ms.Market(st.Market).ParsePrice(st.Price); err != nil {
			return fmt.Errorf("price %q: %w", st.Price, err)
		}
	}
	if st.PricePct != nil && (math.IsNaN(*st.PricePct) || *st.PricePct <= -99 || *st.PricePct > 1000) {
		return errors.New("price_pct must be within -99..1000")
	}
	if st.Price != "" && st.PricePct != nil {
		return errors.New("give price or price_pct, not both")
	}
	if st.Status != "" && !twinex.MarketStatus(st.Status).Valid() {
		return fmt.Errorf("unknown status %q", st.Status)
	}
	if st.Fault != nil {
		if _, err := st.faultRule(time.Time{}); err != nil {
			return err
		}
	}
	if st.For != 0 && st.Fault == nil {
		return errors.New(`"for" goes with "fault"`)
	}
	if st.adjusts() {
		return st.adjustment().Validate()
	}
	return nil
}

func (st *Step) adjusts() bool {
	return st.Volatility != nil || st.DriftPctPerHour != nil || st.SpreadBps != nil || st.LevelBps != nil ||
		st.DepthPct != nil || st.Sides != nil || st.TakerRate != nil
}

// hoursPerYear converts a drift per hour to the GBM's annualised drift.
const hoursPerYear = 365.25 * 24

func (st *Step) adjustment() sim.Adjustment {
	a := sim.Adjustment{Volatility: st.Volatility, SpreadBps: st.SpreadBps, LevelBps: st.LevelBps,
		DepthPct: st.DepthPct, Sides: st.Sides, TakerRate: st.TakerRate}
	if st.DriftPctPerHour != nil {
		d := *st.DriftPctPerHour / 100 * hoursPerYear
		a.Drift = &d
	}
	return a
}

// faultRule is the step's fault rule, its window starting at now.
func (st *Step) faultRule(now time.Time) (fault.Rule, error) {
	r, err := st.Fault.Rule()
	if err != nil {
		return fault.Rule{}, err
	}
	if st.For != 0 {
		r.From, r.Until = now, now.Add(time.Duration(st.For))
	}
	return r, nil
}

// Target is what a scenario acts on: the simulator, the markets' status
// and the fault injector of a running sandbox (or of a test's world).
type Target interface {
	Reseed(seed uint64)
	Reference(symbol string) int64
	SetPrice(symbol string, price int64) error
	Adjust(symbol string, a sim.Adjustment) error
	SetStatus(ctx context.Context, symbol string, status twinex.MarketStatus) error
	AddFault(r fault.Rule) error
}

// Apply performs one step on t at time now.
func Apply(ctx context.Context, st Step, t Target, ms *twinex.Markets, now time.Time) error {
	if st.Price != "" || st.PricePct != nil {
		m := ms.Market(st.Market)
		var p int64
		if st.Price != "" {
			p, _ = m.ParsePrice(st.Price)
		} else {
			ref := t.Reference(m.Symbol)
			bps := int64(math.Round(*st.PricePct * 100))
			p = ref + ref*bps/10000
			p = max(p-p%m.PriceTick, m.PriceTick)
		}
		if err := t.SetPrice(m.Symbol, p); err != nil {
			return err
		}
	}
	if st.adjusts() {
		if err := t.Adjust(st.Market, st.adjustment()); err != nil {
			return err
		}
	}
	if st.Status != "" {
		if err := t.SetStatus(ctx, st.Market, twinex.MarketStatus(st.Status)); err != nil {
			return err
		}
	}
	if st.Maintenance != 0 {
		r := fault.Rule{Error: twinex.Maintenance, Public: true, From: now, Until: now.Add(time.Duration(st.Maintenance))}
		if err := t.AddFault(r); err != nil {
			return err
		}
	}
	if st.Fault != nil {
		r, err := st.faultRule(now)
		if err == nil {
			err = t.AddFault(r)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Length is the time of the last step.
func (sc *Scenario) Length() time.Duration { return time.Duration(sc.Steps[len(sc.Steps)-1].At) }

//go:embed examples/*.json
var examples embed.FS

// Example returns a shipped example scenario by name ("flash-crash",
// "halt-and-reopen", "slow-bleed"), as its file's bytes.
func Example(name string) ([]byte, bool) {
	b, err := examples.ReadFile("examples/" + name + ".json")
	return b, err == nil
}

// Examples lists the shipped examples' names.
func Examples() []string {
	ents, _ := examples.ReadDir("examples")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	return out
}

// Play runs sc on t: it reseeds the simulator with the scenario's seed
// (when not 0), then applies each step at start+At, start being now()
// when Play is called, waiting on after. done is called after each step
// with the number of steps applied. It returns nil when every step is
// applied, ctx's error if ctx ends first, or a step's error (the steps
// before it stay applied).
func Play(ctx context.Context, sc *Scenario, t Target, ms *twinex.Markets, now func() time.Time, after func(time.Duration) <-chan time.Time, done func(int)) error {
	start := now()
	if sc.Seed != 0 {
		t.Reseed(sc.Seed)
	}
	for i, st := range sc.Steps {
		if wait := start.Add(time.Duration(st.At)).Sub(now()); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-after(wait):
			}
		}
		if err := Apply(ctx, st, t, ms, now()); err != nil {
			return fmt.Errorf("scenario %s: step %d (at %s): %w", sc.Name, i+1, time.Duration(st.At), err)
		}
		if done != nil {
			done(i + 1)
		}
	}
	return nil
}
