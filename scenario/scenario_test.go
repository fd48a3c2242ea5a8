package scenario

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/fault"
	"github.com/twinex/twinex/sim"
)

// world is a simulator trading on a real engine, with a fault injector,
// driven in simulated time: the Target of the tests.
type world struct {
	t      *testing.T
	ms     *twinex.Markets
	x      *engine.Exchange
	s      *sim.Sim
	faults *fault.Injector
	now    time.Time
	out    engine.Output
	trades []twinex.Trade
}

func newWorld(t *testing.T) *world {
	ms := twinex.DefaultMarkets()
	s, err := sim.New(sim.DefaultConfig(ms), ms)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, ms: ms, x: engine.New(ms), s: s, faults: fault.New(1), now: time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)}
	w.faults.Now = func() time.Time { return w.now }
	for _, c := range s.DepositCommands() {
		w.apply(c)
	}
	return w
}

func (w *world) apply(c engine.Command) engine.Result {
	c.Time = w.now.UnixNano()
	r := w.x.Apply(&c, &w.out)
	w.trades = append(w.trades, w.out.Trades...)
	w.out.Reset()
	return r
}

func (w *world) step(d time.Duration) {
	w.now = w.now.Add(d)
	for _, c := range w.s.Step(w.now) {
		w.s.Observe(c, w.apply(c))
	}
	var b twinex.Batch
	w.x.TakeChanges(&b)
}

func (w *world) Reseed(seed uint64)                           { w.s.Reseed(seed) }
func (w *world) Reference(symbol string) int64                { return w.s.Reference(symbol) }
func (w *world) SetPrice(symbol string, price int64) error    { return w.s.SetPrice(symbol, price) }
func (w *world) Adjust(symbol string, a sim.Adjustment) error { return w.s.Adjust(symbol, a) }
func (w *world) AddFault(r fault.Rule) error                  { _, err := w.faults.Add(r); return err }
func (w *world) SetStatus(_ context.Context, symbol string, st twinex.MarketStatus) error {
	return w.apply(engine.Command{Kind: engine.SetMarketStatus, Market: w.ms.Index(symbol), Status: st}).Err
}

// play warms the market up for a minute, then runs the scenario in steps
// of 250ms for its length plus tail, recording what the probe sees at
// each second from the start.
func play(t *testing.T, name string, tail time.Duration, probe func(w *world, at time.Duration)) *world {
	t.Helper()
	data, ok := Example(name)
	if !ok {
		t.Fatalf("no example %q", name)
	}
	w := newWorld(t)
	sc, err := Parse(bytes.NewReader(data), w.ms)
	if err != nil {
		t.Fatal(err)
	}
	for range 240 {
		w.step(250 * time.Millisecond)
	}
	w.trades = nil
	w.s.Reseed(sc.Seed)
	next := 0
	for at := time.Duration(0); at <= sc.Length()+tail; at += 250 * time.Millisecond {
		for next < len(sc.Steps) && time.Duration(sc.Steps[next].At) <= at {
			if err := Apply(context.Background(), sc.Steps[next], w, w.ms, w.now); err != nil {
				t.Fatalf("step %d: %v", next+1, err)
			}
			next++
		}
		w.step(250 * time.Millisecond)
		if probe != nil && at%time.Second == 0 {
			probe(w, at)
		}
	}
	if err := w.x.Check(); err != nil {
		t.Fatalf("ledger check: %v", err)
	}
	return w
}

func best(w *world, sym string) (bid, ask int64) {
	b, a := w.x.Depth(w.ms.Index(sym), nil, nil, 1)
	if len(b) > 0 {
		bid = b[0].Price
	}
	if len(a) > 0 {
		ask = a[0].Price
	}
	return bid, ask
}

// TestExamplesReproducible: each shipped scenario, run twice from the same
// state with its seed, gives the same trades.
func TestExamplesReproducible(t *testing.T) {
	for _, name := range Examples() {
		a := play(t, name, 10*time.Second, nil)
		b := play(t, name, 10*time.Second, nil)
		if len(a.trades) == 0 || !reflect.DeepEqual(a.trades, b.trades) {
			t.Errorf("%s: %d and %d trades, not the same", name, len(a.trades), len(b.trades))
		}
	}
	if len(Examples()) != 3 {
		t.Errorf("examples %v", Examples())
	}
}

// TestFlashCrash: the price falls more than 8% from where it stood, then
// recovers at least half of the fall.
func TestFlashCrash(t *testing.T) {
	var before, low, last int64
	play(t, "flash-crash", 30*time.Second, func(w *world, at time.Duration) {
		ref := w.s.Reference("btcusd")
		switch {
		case at < 30*time.Second:
			before = ref
		case low == 0 || ref < low:
			low = ref
		}
		last = ref
	})
	if low*100 > before*92 {
		t.Errorf("flash crash: low %d from %d, want a fall of more than 8%%", low, before)
	}
	if last-low < (before-low)/2 {
		t.Errorf("flash crash: recovered to %d from low %d (before %d)", last, low, before)
	}
}

// TestHaltAndReopen: no ethusd trade while halted (cancel_only) nor in
// post_only, a maintenance window inside the halt, trades after reopening.
func TestHaltAndReopen(t *testing.T) {
	var halted, reopened int
	var inMaintenance, afterMaintenance bool
	seen := 0
	play(t, "halt-and-reopen", 60*time.Second, func(w *world, at time.Duration) {
		var n int
		for _, tr := range w.trades[seen:] {
			if tr.Market == "ethusd" {
				n++
			}
		}
		seen = len(w.trades)
		switch {
		case at > 21*time.Second && at < 70*time.Second: // the probe at 70s sees the step after the reopening
			halted += n
		case at > 71*time.Second:
			reopened += n
		}
		_, hit := w.faults.Match("", true)
		if at == 35*time.Second {
			inMaintenance = hit
		}
		if at == 50*time.Second {
			afterMaintenance = hit
		}
	})
	if halted != 0 || reopened == 0 {
		t.Errorf("ethusd trades: %d while halted, %d after reopening", halted, reopened)
	}
	if !inMaintenance || afterMaintenance {
		t.Errorf("maintenance: in the window %v, after it %v", inMaintenance, afterMaintenance)
	}
}

// TestSlowBleed: the price ends lower and the spread ends at least five
// times wider.
func TestSlowBleed(t *testing.T) {
	var startRef, startSpread, endRef, endSpread int64
	play(t, "slow-bleed", 10*time.Second, func(w *world, at time.Duration) {
		bid, ask := best(w, "btcusd")
		if at == 0 {
			startRef, startSpread = w.s.Reference("btcusd"), ask-bid
		}
		endRef, endSpread = w.s.Reference("btcusd"), ask-bid
	})
	if endRef >= startRef || endSpread < 5*startSpread {
		t.Errorf("slow bleed: reference %d -> %d, spread %d -> %d", startRef, endRef, startSpread, endSpread)
	}
}

func TestParseErrors(t *testing.T) {
	ms := twinex.DefaultMarkets()
	for _, bad := range []string{
		`{"steps": []}`,
		`{"market": "dogeusd", "steps": [{"at": "1s", "price_pct": 5}]}`,
		`{"market": "btcusd", "steps": [{"at": "1s", "status": "halted"}]}`,
		`{"market": "btcusd", "steps": [{"at": "1s", "sides": "left"}]}`,
		`{"market": "btcusd", "steps": [{"at": "1s", "price": "1", "price_pct": 1}]}`,
		`{"market": "btcusd", "steps": [{"at": "soon"}]}`,
		`{"market": "btcusd", "steps": [{"at": "1s", "volume": 3}]}`,
		`{"market": "btcusd", "steps": [{"at": "1s", "fault": {"error": "Teapot"}}]}`,
		`{"market": "btcusd", "steps": [{"at": "48h"}]}`,
	} {
		if _, err := Parse(strings.NewReader(bad), ms); err == nil {
			t.Errorf("%s: parsed", bad)
		}
	}
	sc, err := Parse(strings.NewReader(`{"market":"BTCUSD","steps":[{"at":"2s","note":"b"},{"at":"1s","price":"100"}]}`), ms)
	if err != nil || sc.Steps[0].Market != "btcusd" || time.Duration(sc.Steps[0].At) != time.Second || sc.Length() != 2*time.Second {
		t.Fatalf("parse: %+v %v", sc, err)
	}
}

// TestPlay runs a scenario on a fake clock: steps applied at their times,
// the seed first, and stopping ends it.
func TestPlay(t *testing.T) {
	w := newWorld(t)
	sc, err := Parse(strings.NewReader(`{"seed":3,"market":"btcusd","steps":[{"at":"1s","price":"40000"},{"at":"1h","status":"closed"}]}`), w.ms)
	if err != nil {
		t.Fatal(err)
	}
	clock := w.now
	ch := make(chan time.Time)
	after := func(d time.Duration) <-chan time.Time {
		go func() { clock = clock.Add(d); ch <- clock }()
		return ch
	}
	var done []int
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = Play(ctx, sc, w, w.ms, func() time.Time { return clock }, after, func(n int) { done = append(done, n) })
	if err != nil || !reflect.DeepEqual(done, []int{1, 2}) {
		t.Fatalf("Play: %v, done %v", err, done)
	}
	if w.s.Reference("btcusd") != 4000000 || w.x.Status(w.ms.Index("btcusd")) != twinex.MarketClosed {
		t.Fatalf("after Play: reference %d, status %s", w.s.Reference("btcusd"), w.x.Status(w.ms.Index("btcusd")))
	}
	cancel()
	if err := Play(ctx, sc, w, w.ms, func() time.Time { return clock }, after, nil); err != context.Canceled {
		t.Fatalf("Play after cancel: %v", err)
	}
}
