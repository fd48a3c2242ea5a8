package core

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twinex/twinex"
)

// projection is the projector goroutine's state.
type projection struct {
	acc            twinex.Batch      // the taken batches, merged
	ix             twinex.MergeIndex // acc's index
	taken          []*pending
	lastCheckpoint time.Time
	failed         bool // the store refused a projection: nothing more is written
}

// projector is the projector goroutine: it writes the effects of journaled
// batches into the store, several at a time merged into one transaction,
// and checkpoints every CheckpointEvery. It closes done when the committer
// has stopped and everything is projected, checkpointed and (unless
// KeepJournal) dropped from the journal.
func (c *Core) projector(done chan struct{}) {
	defer close(done)
	ctx := c.storeCtx
	ps := &projection{lastCheckpoint: time.Now()}
	if p := c.recovered; p != nil {
		// The replay's batch holds each order, balance and candle once
		// already: it is written as it is, not merged into a copy.
		c.recovered = nil
		if err := p.replay.addTo(&p.batch); err != nil {
			c.projectionFailed(ps, err)
		} else if err := c.cfg.Store.Project(ctx, &p.batch); err != nil {
			c.projectionFailed(ps, err)
		} else {
			c.advance(p.batch.JournalSeq)
		}
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for p := range c.project {
		ps.taken = append(ps.taken, p)
		// Gather what arrives for ProjectEvery, unless a reader waits.
		select {
		case <-c.wanted:
		default:
		}
		timer.Reset(c.cfg.ProjectEvery)
	gather:
		for len(ps.taken) < c.cfg.MaxLag {
			select {
			case q, ok := <-c.project:
				if !ok {
					break gather
				}
				ps.taken = append(ps.taken, q)
			case <-c.wanted:
				break gather
			case <-timer.C:
				break gather
			}
		}
		// Everything already waiting goes in too.
	drain:
		for len(ps.taken) < c.cfg.MaxLag {
			select {
			case q, ok := <-c.project:
				if !ok {
					break drain
				}
				ps.taken = append(ps.taken, q)
			default:
				break drain
			}
		}
		c.projectTaken(ctx, ps)
	}
	if !ps.failed {
		c.checkpoint(ctx, true)
	}
}

// projectTaken merges the batches taken into one, hands them back to the
// sequencer, writes the merged one to the store, and checkpoints when one
// is due.
func (c *Core) projectTaken(ctx context.Context, ps *projection) {
	if len(ps.taken) == 0 {
		return
	}
	ps.acc.Reset()
	ps.ix.Reset()
	// Room for every order and trade taken, at most: a merge larger
	// than any before grows acc once instead of doubling it as it goes.
	orders, trades := 0, 0
	for _, p := range ps.taken {
		orders += len(p.batch.Orders)
		trades += len(p.batch.Trades)
	}
	ps.acc.Orders = slices.Grow(ps.acc.Orders, orders)
	ps.acc.Trades = slices.Grow(ps.acc.Trades, trades)
	for _, p := range ps.taken {
		ps.acc.Merge(&p.batch, &ps.ix)
	}
	// acc holds a copy of everything taken: the batches go back to the
	// sequencer now, so that the engine runs on while the store writes.
	// The lag stays bounded: the sequencer waits for a free batch once
	// the pool's are all journaled and waiting here.
	for _, p := range ps.taken {
		p.batch.Reset()
		c.free <- p
	}
	clear(ps.taken)
	ps.taken = ps.taken[:0]
	if ps.failed {
		return
	}
	if err := c.cfg.Store.Project(ctx, &ps.acc); err != nil {
		c.projectionFailed(ps, err)
		return
	}
	c.advance(ps.acc.JournalSeq)
	if time.Since(ps.lastCheckpoint) >= c.cfg.CheckpointEvery {
		c.checkpoint(ctx, false)
		ps.lastCheckpoint = time.Now()
	}
}

// projectionFailed stops the projection: nothing more is written, and the
// exchange takes no more commands.
func (c *Core) projectionFailed(ps *projection, err error) {
	err = fmt.Errorf("core: project: %w", err)
	c.failed.CompareAndSwap(nil, &err)
	c.log.Error("projecting the journal failed; the exchange stops taking commands until restarted", "err", err)
	ps.failed = true
	c.advance(0) // wake readers: they see the failure
}

// checkpoint makes the projection durable and drops the journal records it
// covers (all of them when final, at Close).
func (c *Core) checkpoint(ctx context.Context, final bool) {
	if err := c.cfg.Store.Checkpoint(ctx); err != nil {
		c.log.Error("checkpoint failed; the journal keeps its records", "err", err)
		return
	}
	if c.cfg.KeepJournal {
		return
	}
	if err := c.cfg.Journal.Truncate(ctx, c.projected.Load()); err != nil {
		c.log.Error("truncating the journal failed", "err", err)
	}
}

// advance records that the projection reached seq (0: only wake the
// readers) and wakes those waiting for it.
func (c *Core) advance(seq uint64) {
	c.projMu.Lock()
	if seq > c.projected.Load() {
		c.projected.Store(seq)
	}
	close(c.projAdvance)
	c.projAdvance = make(chan struct{})
	c.projMu.Unlock()
}

// Caught returns once the store's projection holds everything answered
// before the call: reads of the store made after it see every
// acknowledged command (read-your-writes). It fails with the core's error
// if the projection failed, or with ctx's error.
func (c *Core) Caught(ctx context.Context) error {
	target := c.journaled.Load()
	for {
		c.projMu.Lock()
		ch := c.projAdvance
		c.projMu.Unlock()
		if c.projected.Load() >= target {
			return nil
		}
		if err := c.Err(); err != nil {
			return err
		}
		select {
		case c.wanted <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Lag returns how many journal sequences the projection is behind.
func (c *Core) Lag() uint64 { return c.journaled.Load() - min(c.journaled.Load(), c.projected.Load()) }

// History returns the store for reading history with read-your-writes:
// each of its queries first waits (Caught) until the projection holds
// every command answered before the query began. Its other methods are the
// store's.
func (c *Core) History() twinex.ExchangeStore { return history{c.cfg.Store, c} }

type history struct {
	twinex.ExchangeStore
	c *Core
}

func (h history) Order(ctx context.Context, id int64) (twinex.Order, error) {
	if err := h.c.Caught(ctx); err != nil {
		return twinex.Order{}, err
	}
	return h.ExchangeStore.Order(ctx, id)
}

func (h history) Orders(ctx context.Context, q twinex.OrderQuery) ([]twinex.Order, error) {
	if err := h.c.Caught(ctx); err != nil {
		return nil, err
	}
	return h.ExchangeStore.Orders(ctx, q)
}

func (h history) Trades(ctx context.Context, q twinex.TradeQuery) ([]twinex.Trade, error) {
	if err := h.c.Caught(ctx); err != nil {
		return nil, err
	}
	return h.ExchangeStore.Trades(ctx, q)
}

func (h history) Transfers(ctx context.Context, q twinex.TransferQuery) ([]twinex.Transfer, error) {
	if err := h.c.Caught(ctx); err != nil {
		return nil, err
	}
	return h.ExchangeStore.Transfers(ctx, q)
}

func (h history) Candles(ctx context.Context, q twinex.CandleQuery) ([]twinex.Candle, error) {
	if err := h.c.Caught(ctx); err != nil {
		return nil, err
	}
	return h.ExchangeStore.Candles(ctx, q)
}
