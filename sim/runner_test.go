package sim

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// fakeClock is a clock whose After advances time at once; it cancels the
// run after a number of waits and can call a hook before each.
type fakeClock struct {
	now    time.Time
	waits  int
	stopAt int
	cancel context.CancelFunc
	hook   func(wait int)
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.waits++
	if c.hook != nil {
		c.hook(c.waits)
	}
	c.now = c.now.Add(d)
	if c.waits >= c.stopAt {
		c.cancel()
	}
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// recorder is a fake Doer: it records commands with the time they were
// sent, books every place as a live order with a fresh id, and fails the
// commands fail says to.
type recorder struct {
	clock *fakeClock
	cmds  []engine.Command
	at    []time.Time
	id    int64
	fail  func(n int) bool
}

func (r *recorder) Do(ctx context.Context, c engine.Command) (engine.Result, error) {
	r.cmds = append(r.cmds, c)
	r.at = append(r.at, r.clock.now)
	if r.fail != nil && r.fail(len(r.cmds)) {
		return engine.Result{}, errors.New("store is down")
	}
	var res engine.Result
	if c.Kind == engine.Place {
		r.id++
		res.Order = twinex.Order{ID: r.id, AccountID: c.AccountID, Market: "x", Side: c.Side, Price: c.Price, Amount: c.Amount, Status: twinex.StatusLive}
		if c.Option == twinex.ImmediateOrCancel {
			res.Order.Status, res.Order.CancelReason = twinex.StatusCancelled, twinex.ReasonImmediateOrCancelWouldPost
		}
	}
	return res, nil
}

func newTestRunner(t *testing.T, ticks int, exec func(*fakeClock) Doer) (*Runner, *fakeClock, context.Context) {
	t.Helper()
	s, err := New(defaultCfg(), twinex.DefaultMarkets())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clk := &fakeClock{now: t0, stopAt: ticks, cancel: cancel}
	r := NewRunner(s, exec(clk))
	r.Now, r.After = clk.Now, clk.After
	return r, clk, ctx
}

func TestRunnerTicks(t *testing.T) {
	var rec *recorder
	r, clk, ctx := newTestRunner(t, 400, func(c *fakeClock) Doer { rec = &recorder{clock: c}; return rec })
	pausedAt := time.Time{}
	clk.hook = func(wait int) {
		switch wait {
		case 200:
			r.Pause()
			pausedAt = clk.now
		case 300:
			r.Resume()
		}
	}
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if clk.waits != 400 {
		t.Fatalf("%d ticks, want 400", clk.waits)
	}
	if len(rec.cmds) == 0 {
		t.Fatal("no commands")
	}
	// The first tick sets the bots' fees and quotes every market, each
	// ladder after a CancelSession of its session.
	if rec.cmds[0].Kind != engine.SetFees || rec.cmds[1].Kind != engine.SetFees || rec.cmds[2].Kind != engine.CancelSession || rec.cmds[2].Session != "sim-btcusd" {
		t.Fatalf("first commands %+v", rec.cmds[:3])
	}
	sessions := 0
	for i, c := range rec.cmds {
		if !rec.at[i].Equal(t0) {
			break
		}
		if c.Kind == engine.CancelSession {
			sessions++
		}
	}
	if sessions != 5 {
		t.Fatalf("first tick re-quoted %d markets, want 5", sessions)
	}
	for i, at := range rec.at {
		if d := at.Sub(t0); d%DefaultTick != 0 {
			t.Fatalf("command %d sent at %v, off the tick", i, d)
		}
		if at.After(pausedAt) && at.Before(pausedAt.Add(100*DefaultTick)) {
			t.Fatalf("command %d sent at %v while paused", i, at.Sub(t0))
		}
	}
	if last := rec.at[len(rec.at)-1]; !last.After(pausedAt.Add(100 * DefaultTick)) {
		t.Fatalf("no command after Resume (last at %v)", last.Sub(t0))
	}
	st := r.Stats()
	if st.Lost != 0 || st.Commands != int64(len(rec.cmds)) {
		t.Fatalf("stats %+v for %d commands", st, len(rec.cmds))
	}
}

func TestRunnerTransportErrors(t *testing.T) {
	var rec *recorder
	r, _, ctx := newTestRunner(t, 100, func(c *fakeClock) Doer {
		rec = &recorder{clock: c, fail: func(n int) bool { return n%13 == 0 }}
		return rec
	})
	var logs bytes.Buffer
	r.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Lost == 0 {
		t.Fatalf("failed commands were not counted as lost: %+v", st)
	}
	if !strings.Contains(logs.String(), "sim: command failed") || !strings.Contains(logs.String(), "store is down") {
		t.Fatalf("log does not mention the failures:\n%s", logs.String())
	}
	// A lost maker command makes the maker re-quote that market from
	// scratch: more CancelSessions than a clean run needs.
	sessions := 0
	for _, c := range rec.cmds {
		if c.Kind == engine.CancelSession {
			sessions++
		}
	}
	if int64(sessions) != st.Requotes || sessions <= 5 {
		t.Fatalf("%d CancelSessions, %d requotes", sessions, st.Requotes)
	}
}

// exchangeDoer runs commands on an engine.Exchange, stamping the fake
// clock's time, as the sequencer would.
type exchangeDoer struct {
	clock  *fakeClock
	x      *engine.Exchange
	out    engine.Output
	trades int
}

func (d *exchangeDoer) Do(ctx context.Context, c engine.Command) (engine.Result, error) {
	c.Time = d.clock.now.UnixNano()
	r := d.x.Apply(&c, &d.out)
	d.trades += len(d.out.Trades)
	d.out.Reset()
	return r, nil
}

func TestRunnerOnEngine(t *testing.T) {
	var d *exchangeDoer
	r, _, ctx := newTestRunner(t, 4*120, func(c *fakeClock) Doer {
		d = &exchangeDoer{clock: c, x: engine.New(twinex.DefaultMarkets())}
		return d
	})
	for _, c := range r.Sim.DepositCommands() {
		if res, _ := d.Do(ctx, c); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.x.Check(); err != nil {
		t.Fatal(err)
	}
	if d.trades < 50 {
		t.Fatalf("%d trades in two simulated minutes", d.trades)
	}
	for i := range d.x.Markets().List {
		if b, a := d.x.Depth(i, nil, nil, 0); len(b) < 5 || len(a) < 5 {
			t.Fatalf("market %d: %d bid and %d ask levels", i, len(b), len(a))
		}
	}
	if st := r.Stats(); st.Rejected != 0 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := r.SetPrice("btcusd", 2_500_000); err != nil || r.Reference("btcusd") != 2_500_000 || r.Paused() {
		t.Fatalf("SetPrice: %v, reference %d", err, r.Reference("btcusd"))
	}
}

// TestRunnerConcurrentControl runs a Runner on the real clock with a short
// tick while another goroutine pauses, resumes and moves prices (run with
// -race).
func TestRunnerConcurrentControl(t *testing.T) {
	ms := twinex.DefaultMarkets()
	s, err := New(DefaultConfig(ms), ms)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: time.Now()}
	d := &exchangeDoer{clock: clk, x: engine.New(ms)}
	for _, c := range s.DepositCommands() {
		d.Do(context.Background(), c)
	}
	r := NewRunner(s, d)
	r.Tick = time.Millisecond
	r.Now = func() time.Time { return time.Now() }
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	for i := 0; ctx.Err() == nil; i++ {
		switch i % 4 {
		case 0:
			r.Pause()
		case 1:
			r.Resume()
		case 2:
			r.SetPrice("ethusd", r.Reference("ethusd")+100)
		case 3:
			_ = r.Paused()
			_ = r.Stats()
		}
		time.Sleep(time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := d.x.Check(); err != nil {
		t.Fatal(err)
	}
}
