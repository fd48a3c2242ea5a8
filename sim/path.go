package sim

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
)

// PricePoint is one point of a replayed price path: a Unix time in
// milliseconds and a decimal price ("30001.50").
type PricePoint struct {
	Time  int64
	Price string
}

// sampleBTCUSD is a synthetic series (see the comment at the top of the
// file): about ten minutes of btcusd trade prices around 30000.
//
//go:embed data/btcusd.csv
var sampleBTCUSD string

// SampleBTCUSD returns the embedded sample path for btcusd: 600 synthetic
// trade prices around 30000 USD over about ten minutes, with millisecond
// timestamps. It is not market data: a seeded geometric Brownian motion
// bridged to end where it starts (so that a looping replay is smooth), with
// a few dollars of trade-to-trade bounce.
func SampleBTCUSD() []PricePoint {
	pts, err := ParseReplayCSV(strings.NewReader(sampleBTCUSD))
	if err != nil {
		panic("sim: embedded sample is invalid: " + err.Error())
	}
	return pts
}

// ParseReplayCSV reads a replay path: records of two fields, a Unix time in
// milliseconds and a decimal price. Lines starting with '#' are comments; a
// first record whose time is not a number is taken as a header. Times must
// increase strictly.
func ParseReplayCSV(r io.Reader) ([]PricePoint, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 2
	cr.TrimLeadingSpace = true
	var pts []PricePoint
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("replay csv: %w", err)
		}
		ms, err := strconv.ParseInt(strings.TrimSpace(rec[0]), 10, 64)
		if err != nil {
			if n == 0 {
				continue // header
			}
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("replay csv: line %d: bad time %q", line, rec[0])
		}
		pts = append(pts, PricePoint{Time: ms, Price: strings.TrimSpace(rec[1])})
	}
	if len(pts) < 2 {
		return nil, errors.New("replay csv: need at least two points")
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].Time <= pts[i-1].Time {
			return nil, fmt.Errorf("replay csv: times must increase (point %d at %d after %d)", i, pts[i].Time, pts[i-1].Time)
		}
	}
	return pts, nil
}

// parsePathPrice parses a decimal price into market price units, rounded to
// the nearest tick (at least one tick). Digits beyond the market's price
// decimals are truncated first: replayed data may be finer than the tick.
func parsePathPrice(m *twinex.Market, s string) (int64, error) {
	v, err := twinex.ParseUnits(s, m.PriceDecimals)
	if errors.Is(err, twinex.ErrDecimalPrecision) {
		if i := strings.IndexByte(s, '.'); i >= 0 && !strings.ContainsAny(s, "eE") {
			v, err = twinex.ParseUnits(s[:i+1+m.PriceDecimals], m.PriceDecimals)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("price %q: %w", s, err)
	}
	if v <= 0 {
		return 0, fmt.Errorf("price %q is not positive", s)
	}
	return roundTick(v, m.PriceTick), nil
}

// roundTick rounds a positive price to the nearest tick, at least one tick.
func roundTick(p, tick int64) int64 {
	r := (p + tick/2) / tick * tick
	return max(r, tick)
}

// path is a market's reference price process. Its value is in price units
// on the tick grid. The geometric Brownian motion runs in float64 (the only
// floats in the package): each step multiplies the price by
// exp((mu - sigma^2/2) dt + sigma sqrt(dt) Z), and the result is rounded to
// the nearest tick, so money itself is never a float.
type path struct {
	replay bool
	tick   int64

	// gbm
	rng        *rand.Rand
	price      float64 // price units
	a, b       float64 // per-step log drift and log volatility
	years      float64 // one step, in years
	lo, hi     float64 // clamp, in price units
	maxPrice   int64
	replayPts  []rpoint
	period     int64 // ns; the replay loops
	anchor     int64 // Unix ns of the first point
	cursor     int
	offset     int64 // SetPrice on a replay: added to the replayed price
	lastReplay int64
}

// rpoint is a replay point: ns since the first point, price units.
type rpoint struct {
	off, p int64
}

func newGBM(rng *rand.Rand, start, tick, maxPrice int64, drift, vol float64, dt float64) *path {
	years := dt / (365.25 * 86400)
	return &path{
		tick: tick, rng: rng, price: float64(start), maxPrice: maxPrice, years: years,
		a:  (drift - vol*vol/2) * years,
		b:  vol * math.Sqrt(years),
		lo: float64(tick), hi: float64(maxPrice),
	}
}

func newReplay(m *twinex.Market, pts []PricePoint, maxPrice int64) (*path, error) {
	if len(pts) < 2 {
		return nil, errors.New("replay needs at least two points")
	}
	p := &path{replay: true, tick: m.PriceTick, maxPrice: maxPrice}
	for i, pt := range pts {
		if i > 0 && pt.Time <= pts[i-1].Time {
			return nil, fmt.Errorf("replay point %d: times must increase", i)
		}
		v, err := parsePathPrice(m, pt.Price)
		if err != nil {
			return nil, fmt.Errorf("replay point %d: %w", i, err)
		}
		if v > maxPrice {
			return nil, fmt.Errorf("replay point %d: price %s is too large", i, pt.Price)
		}
		p.replayPts = append(p.replayPts, rpoint{off: (pt.Time - pts[0].Time) * 1e6, p: v})
	}
	n := len(p.replayPts)
	// After the last point the path returns to the first over one more
	// interval of the same length as the last one, then loops.
	p.period = 2*p.replayPts[n-1].off - p.replayPts[n-2].off
	p.lastReplay = p.replayPts[0].p
	return p, nil
}

// setParams changes a GBM's annualised drift and volatility from the next
// step; a replay has neither and ignores it.
func (p *path) setParams(drift, vol float64) {
	if p.replay {
		return
	}
	p.a = (drift - vol*vol/2) * p.years
	p.b = vol * math.Sqrt(p.years)
}

// start anchors a replay at t (Unix ns).
func (p *path) start(t int64) { p.anchor = t }

// shift moves a replay's anchor, freezing the path over a pause.
func (p *path) shift(d int64) { p.anchor += d }

// step advances the path to time t (one step of the Sim's grid) and returns
// the reference price in price units.
func (p *path) step(t int64) int64 {
	if p.replay {
		return p.replayAt(t)
	}
	p.price *= math.Exp(p.a + p.b*p.rng.NormFloat64())
	p.price = min(max(p.price, p.lo), p.hi)
	return p.value()
}

// value returns the current reference price without advancing.
func (p *path) value() int64 {
	if p.replay {
		return min(max(p.lastReplay+p.offset, p.tick), p.maxPrice)
	}
	return min(roundTick(int64(math.Round(p.price)), p.tick), p.maxPrice)
}

// set jumps the reference to price (on the tick grid).
func (p *path) set(price int64) {
	if p.replay {
		p.offset = price - p.lastReplay
		return
	}
	p.price = float64(price)
}

// replayAt interpolates the replayed path linearly at time t, in integers,
// and rounds to the tick.
func (p *path) replayAt(t int64) int64 {
	tau := t - p.anchor
	if tau < 0 {
		tau = 0
	}
	tau %= p.period
	pts := p.replayPts
	if tau < pts[p.cursor].off {
		p.cursor = 0 // looped
	}
	for p.cursor+1 < len(pts) && pts[p.cursor+1].off <= tau {
		p.cursor++
	}
	a := pts[p.cursor]
	b, end := pts[0], p.period // from the last point back to the first
	if p.cursor+1 < len(pts) {
		b, end = pts[p.cursor+1], pts[p.cursor+1].off
	}
	v := a.p
	if d := tau - a.off; d > 0 {
		if b.p >= a.p {
			v += mulDiv(b.p-a.p, d, end-a.off)
		} else {
			v -= mulDiv(a.p-b.p, d, end-a.off)
		}
	}
	p.lastReplay = roundTick(v, p.tick)
	return p.value()
}

// mulDiv returns a*b/c for non-negative a, b and positive c with a*b/c below
// 2^63 (here: a price difference times a fraction of one interval).
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}
