package sim

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// Doer executes engine commands; *core.Core is one. Do's error is for
// failures outside the engine (a closed core, a store error, ctx); business
// outcomes are in Result.Err.
type Doer interface {
	Do(ctx context.Context, cmd engine.Command) (engine.Result, error)
}

// DefaultTick is how often a Runner steps its Sim by default.
const DefaultTick = 250 * time.Millisecond

// Runner drives a Sim in real time: every Tick it calls Step with the
// current time, sends the commands one by one with Do, and Observes each
// result. Its methods may be called from other goroutines while Run runs.
type Runner struct {
	Sim  *Sim
	Exec Doer
	// Tick is the stepping interval (default DefaultTick).
	Tick time.Duration
	// Now reads the clock (default time.Now).
	Now func() time.Time
	// After waits (default time.After); tests pass a fake clock's.
	After func(time.Duration) <-chan time.Time
	// Logger receives transport errors (Warn) and refused commands (Debug);
	// nil discards.
	Logger *slog.Logger

	mu  sync.Mutex // guards Sim
	buf []engine.Command
}

// NewRunner returns a Runner with the defaults set.
func NewRunner(s *Sim, exec Doer) *Runner {
	return &Runner{Sim: s, Exec: exec, Tick: DefaultTick, Now: time.Now, After: time.After,
		Logger: slog.New(slog.DiscardHandler)}
}

func (r *Runner) defaults() {
	if r.Tick <= 0 {
		r.Tick = DefaultTick
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.After == nil {
		r.After = time.After
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
}

// Run steps the Sim every Tick until ctx ends, then returns nil. Missed
// ticks (a slow Do) are not made up: the Sim catches up on the path by
// itself, with MaxCommands bounding each Step.
func (r *Runner) Run(ctx context.Context) error {
	r.defaults()
	next := r.Now()
	for {
		if ctx.Err() != nil {
			return nil
		}
		r.tick(ctx)
		next = next.Add(r.Tick)
		d := next.Sub(r.Now())
		if d < 0 {
			next, d = r.Now(), 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.After(d):
		}
	}
}

// tick runs one Step and sends its commands. The lock is held for Step and
// each Observe, not across Do, so that Pause and SetPrice never wait on the
// sequencer.
func (r *Runner) tick(ctx context.Context) {
	r.mu.Lock()
	r.buf = append(r.buf[:0], r.Sim.Step(r.Now())...)
	r.mu.Unlock()
	failed := 0
	for _, c := range r.buf {
		res, err := r.Exec.Do(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return // the rest are lost; the next Step (if any) knows
			}
			if failed == 0 {
				r.Logger.Warn("sim: command failed", "kind", c.Kind, "account", c.AccountID, "err", err)
			}
			failed++
			continue // not observed: its outcome is unknown
		}
		if res.Err != nil {
			r.Logger.Debug("sim: command refused", "kind", c.Kind, "account", c.AccountID,
				"reason", twinex.ErrorReason(res.Err), "err", res.Err)
		}
		r.mu.Lock()
		r.Sim.Observe(c, res)
		r.mu.Unlock()
	}
	if failed > 1 {
		r.Logger.Warn("sim: commands failed this tick", "failed", failed, "of", len(r.buf))
	}
}

// SetPrice is Sim.SetPrice, safe while Run runs.
func (r *Runner) SetPrice(symbol string, price int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Sim.SetPrice(symbol, price)
}

// Pause is Sim.Pause, safe while Run runs. Commands of a Step already
// being sent still go out.
func (r *Runner) Pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Sim.Pause()
}

// Resume is Sim.Resume, safe while Run runs.
func (r *Runner) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Sim.Resume()
}

// Paused is Sim.Paused, safe while Run runs.
// Adjust changes a market's behaviour (see Sim.Adjust).
func (r *Runner) Adjust(symbol string, a Adjustment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Sim.Adjust(symbol, a)
}

// Reseed restarts the Sim's random streams (see Sim.Reseed).
func (r *Runner) Reseed(seed uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Sim.Reseed(seed)
}

func (r *Runner) Paused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Sim.Paused()
}

// Reference is Sim.Reference, safe while Run runs.
func (r *Runner) Reference(symbol string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Sim.Reference(symbol)
}

// Stats is Sim.Stats, safe while Run runs.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Sim.Stats()
}
