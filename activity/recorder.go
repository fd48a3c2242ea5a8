// Package activity records the API requests that name an API key, off the
// request path: Record hands a record to a buffered channel and returns at
// once; Run writes what arrives in batches, one transaction each, and
// prunes records older than the retention.
//
// When the buffer is full (the store is far behind) records are dropped and
// counted rather than slowing requests down; Dropped reports how many.
package activity

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twinex/twinex"
)

// Defaults.
const (
	DefaultRetention = 30 * 24 * time.Hour
	bufferSize       = 1 << 16
	// A batch is written once a second, or at maxBatch records. Each batch
	// writes a page of the log's key and user indexes per key in it,
	// however few of its records are the key's: a busy key's records
	// share those pages better in fewer, larger batches (with 256 keys
	// placing and cancelling orders, a 250 ms batch held one or two
	// records per key).
	maxBatch   = 16384
	flushEvery = time.Second
	pruneEvery = time.Hour
)

// Store is where the recorder writes: the activity log, whose writes
// also roll up each key's usage per minute, pruned with it.
type Store interface {
	twinex.ActivityStore
	PruneUsage(ctx context.Context, minute int64) error
}

// Recorder batches activity records into a store.
type Recorder struct {
	store     Store
	retention time.Duration
	log       *slog.Logger
	ch        chan twinex.Activity
	dropped   atomic.Int64
	flushed   chan chan struct{}
	onWrite   []func(context.Context, []twinex.Activity)
	// OnBatch, if set before Run, is told each batch's size and write time
	// (for metrics).
	OnBatch func(records int, took time.Duration)
	// Now, if set before Run, is the clock pruning reads (default
	// time.Now).
	Now func() time.Time
}

// Queued is how many records wait to be written.
func (r *Recorder) Queued() int { return len(r.ch) }

// OnWrite adds fn to the functions Run calls with each batch once it is
// written (the alert rules), before it takes the next. Call it before Run.
func (r *Recorder) OnWrite(fn func(context.Context, []twinex.Activity)) {
	r.onWrite = append(r.onWrite, fn)
}

// New returns a recorder for store keeping records for retention (the
// default when zero). Call Run to start writing.
func New(store Store, retention time.Duration, log *slog.Logger) *Recorder {
	if retention <= 0 {
		retention = DefaultRetention
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, retention: retention, log: log,
		ch: make(chan twinex.Activity, bufferSize), flushed: make(chan chan struct{})}
}

// Record queues a record; it never blocks.
func (r *Recorder) Record(a twinex.Activity) {
	select {
	case r.ch <- a:
	default:
		if r.dropped.Add(1)%1000 == 1 {
			r.log.Warn("activity log behind: records dropped", "dropped", r.dropped.Load())
		}
	}
}

// Dropped is how many records were dropped because the buffer was full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Flush waits until every record queued before the call is written (for
// tests and shutdown); it returns early if ctx ends or Run is not running.
func (r *Recorder) Flush(ctx context.Context) {
	done := make(chan struct{})
	select {
	case r.flushed <- done:
	case <-ctx.Done():
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Run writes queued records until ctx ends, then writes what is left.
func (r *Recorder) Run(ctx context.Context) {
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	r.prune()
	batch := make([]twinex.Activity, 0, maxBatch)
	write := func() {
		for len(batch) < maxBatch {
			select {
			case a := <-r.ch:
				batch = append(batch, a)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			return
		}
		// A fresh context: records queued before shutdown are still
		// written after ctx ends.
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		err := r.store.AddActivity(wctx, batch)
		if r.OnBatch != nil {
			r.OnBatch(len(batch), time.Since(start))
		}
		if err != nil {
			r.log.Error("activity log: write failed; records lost", "records", len(batch), "err", err)
		} else {
			for _, fn := range r.onWrite {
				fn(wctx, batch)
			}
		}
		cancel()
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			for len(r.ch) > 0 || len(batch) > 0 {
				write()
			}
			return
		case a := <-r.ch:
			batch = append(batch, a)
			if len(batch) >= maxBatch {
				write()
			}
		case <-tick.C:
			write()
		case done := <-r.flushed:
			for len(r.ch) > 0 || len(batch) > 0 {
				write()
			}
			close(done)
		case <-prune.C:
			r.prune()
		}
	}
}

// UsageRetention is how long the per-minute usage rolled up from the log is
// kept, at least: the 30-day charts, the quota's day and the spike
// baseline read it, whatever the log's own retention.
const UsageRetention = 31 * 24 * time.Hour

func (r *Recorder) prune() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	n, err := r.store.PruneActivity(ctx, now.Add(-r.retention).UnixNano())
	if err != nil {
		r.log.Error("activity log: prune failed", "err", err)
	} else if n > 0 {
		r.log.Info("activity log pruned", "records", n)
	}
	keep := max(r.retention, UsageRetention)
	if err := r.store.PruneUsage(ctx, now.Add(-keep).Unix()/60); err != nil {
		r.log.Error("activity log: prune usage failed", "err", err)
	}
}
