package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// sequence is the sequencer goroutine.
func (c *Core) sequence() {
	defer close(c.commits)
	tick := time.NewTicker(c.cfg.RefreshEvery)
	defer tick.Stop()
	for {
		var first *request
		select {
		case r, ok := <-c.in:
			if !ok {
				return
			}
			first = r
		case <-tick.C:
			c.refresh()
			continue
		}
		p := <-c.free
		p.reqs = append(p.reqs[:0], first)
	drain:
		for len(p.reqs) < c.cfg.MaxBatch {
			select {
			case r, ok := <-c.in:
				if !ok {
					break drain
				}
				p.reqs = append(p.reqs, r)
			default:
				break drain
			}
		}
		var t0 time.Time
		if c.cfg.OnBatch != nil {
			t0 = time.Now()
		}
		c.apply(p)
		if c.cfg.OnBatch != nil {
			p.applied = time.Since(t0)
		}
		c.commits <- p
	}
}

// refresh republishes the snapshots of markets that no batch touched for
// RefreshEvery, so that their 24-hour figures roll forward. It goes through
// the committer like a batch, so publication stays in commit order.
func (c *Core) refresh() {
	now := c.cfg.Now().UnixNano()
	p := <-c.free
	p.reqs = p.reqs[:0]
	p.cmds = p.cmds[:0]
	p.out.Reset()
	p.batch.Reset()
	p.snaps = p.snaps[:0]
	c.seq++
	p.seq = c.seq
	for i, s := range c.built {
		if s == nil || now-s.Time >= int64(c.cfg.RefreshEvery) {
			p.snaps = append(p.snaps, c.snapshot(i, max(now, c.last), false))
		}
	}
	c.commits <- p
}

// stamp returns the time for the next command: the clock, but strictly
// increasing so that every command has its own stamp.
func (c *Core) stamp() int64 {
	now := c.cfg.Now().UnixNano()
	if now <= c.last {
		now = c.last + 1
	}
	c.last = now
	return now
}

// apply runs a batch through the engine and prepares its store batch and
// snapshots. It runs on the sequencer goroutine.
func (c *Core) apply(p *pending) {
	if p.out.Events == nil {
		select {
		case p.out.Events = <-c.events:
		default:
		}
	}
	p.out.Reset()
	p.batch.Reset()
	p.snaps = p.snaps[:0]
	p.cmds = p.cmds[:0]
	clear(p.uses)
	if c.failed.Load() != nil {
		return // the committer fails the whole batch
	}
	c.seq++
	p.seq = c.seq
	var now int64
	for _, r := range p.reqs {
		now = c.stamp()
		if r.inspect != nil {
			if r.mark != nil {
				*r.mark = Mark{Seq: p.seq, Event: len(p.out.Events)}
				r.mark = nil
			}
			r.inspect(c.x)
			continue
		}
		r.cmd.Time = now
		r.res = c.x.Apply(&r.cmd, &p.out)
		p.cmds = append(p.cmds, &r.cmd)
		if r.use.ID != "" {
			p.addUse(r.use)
		}
	}
	c.md.Apply(p.out.Trades)
	c.x.TakeChanges(&p.batch)
	p.batch.Trades = append(p.batch.Trades, p.out.Trades...)
	p.batch.Transfers = append(p.batch.Transfers, p.out.Transfers...)
	c.md.TakeCandles(&p.batch)
	c.touched = c.x.TakeTouched(c.touched[:0])
	for _, i := range c.touched {
		p.snaps = append(p.snaps, c.snapshot(i, now, true))
	}
}

// addUse keeps the latest use of each key in the batch, and every replay
// mark.
func (p *pending) addUse(u twinex.KeyUse) {
	if u.Replay.Sig != "" {
		p.batch.KeyReplays = append(p.batch.KeyReplays, u.Replay)
		u.Replay = twinex.KeyReplay{}
	}
	if p.uses == nil {
		p.uses = map[string]int{}
	}
	if i, ok := p.uses[u.ID]; ok {
		if u.Seq > p.batch.KeyUses[i].Seq {
			p.batch.KeyUses[i] = u
		}
		return
	}
	p.uses[u.ID] = len(p.batch.KeyUses)
	p.batch.KeyUses = append(p.batch.KeyUses, u)
}

// snapshot builds market i's snapshot, taking the depth afresh when the
// book changed and reusing the previous snapshot's trades and candles when
// no trade happened. It runs on the sequencer goroutine.
func (c *Core) snapshot(i int, now int64, bookChanged bool) *Snapshot {
	prev := c.built[i]
	s := &Snapshot{Market: c.cfg.Markets.List[i], Index: i, Status: c.x.Status(i), Time: now}
	if bookChanged || prev == nil {
		s.Bids, s.Asks = c.x.Depth(i, nil, nil, 0)
	} else {
		s.Bids, s.Asks = prev.Bids, prev.Asks
	}
	s.Stats = c.md.Stats(i, now)
	if c.md.Changed(i) || prev == nil {
		s.Trades = c.md.Trades(i)
		s.Candles = make([]twinex.Candle, len(twinex.Timeframes))
		for k := range twinex.Timeframes {
			s.Candles[k] = c.md.Candle(i, k)
		}
	} else {
		s.Trades, s.Candles = prev.Trades, prev.Candles
	}
	c.built[i] = s
	return s
}

// commit is the committer goroutine. Each batch that changed anything is
// made durable (appended to the journal, or committed to the store when
// there is none) before its callers are answered and its effects
// published. With a journal, the batch then goes on to the projector;
// projected is closed when the projector has finished.
func (c *Core) commit(projected chan struct{}) {
	defer func() {
		if c.project != nil {
			close(c.project)
			<-projected
		}
		close(c.done)
	}()
	ctx := c.storeCtx
	for p := range c.commits {
		err := c.Err()
		var t0 time.Time
		if c.cfg.OnBatch != nil {
			t0 = time.Now()
		}
		write := err == nil && !p.batch.Empty()
		if write {
			var cerr error
			if c.cfg.Journal != nil {
				p.batch.JournalSeq = p.seq
				c.buf = encodeRecord(c.buf[:0], c.cfg.Markets, p.cmds, &p.batch)
				cerr = c.cfg.Journal.Append(ctx, []twinex.JournalRecord{{Seq: p.seq, Data: c.buf}})
				if cap(c.buf) > 4<<20 {
					c.buf = nil
				}
			} else {
				cerr = c.cfg.Store.Commit(ctx, &p.batch)
			}
			if errors.Is(cerr, context.Canceled) && ctx.Err() != nil && !errors.Is(cerr, twinex.ErrOutcomeUnknown) {
				// Abort cut the write short: it may have reached the store.
				cerr = fmt.Errorf("%w (cut short: %w)", cerr, twinex.ErrOutcomeUnknown)
			}
			if cerr != nil {
				err = fmt.Errorf("core: commit: %w", cerr)
				c.failed.CompareAndSwap(nil, &err)
				c.log.Error("commit failed; the exchange stops taking commands until restarted", "err", cerr)
			}
		}
		if err != nil {
			msg := "The exchange could not record this request; it was not executed."
			if errors.Is(err, twinex.ErrOutcomeUnknown) {
				msg = "The exchange could not confirm that this request was recorded; it may have been executed. Check its result once the exchange is back."
			}
			fail := &twinex.Error{Reason: twinex.System, Message: msg, Err: err}
			for _, r := range p.reqs {
				r.res, r.err = engine.Result{}, fail
				r.done <- struct{}{}
			}
		} else {
			if write {
				c.journaled.Store(p.seq)
				if c.project == nil {
					c.advance(p.seq)
				}
			}
			for _, s := range p.snaps {
				c.snaps[s.Index].Store(s)
			}
			if c.cfg.OnCommit != nil && (len(p.out.Events) > 0 || len(p.out.Trades) > 0 || len(p.out.Transfers) > 0 || len(p.snaps) > 0) {
				c.cfg.OnCommit(&Committed{Seq: p.seq, Events: p.out.Events, Trades: p.out.Trades, Transfers: p.out.Transfers, Snapshots: p.snaps})
			}
			for _, r := range p.reqs {
				r.done <- struct{}{}
			}
		}
		if c.cfg.OnBatch != nil && len(p.reqs) > 0 {
			c.cfg.OnBatch(BatchStats{Commands: len(p.reqs), Apply: p.applied, Commit: time.Since(t0), Failed: err != nil})
		}
		p.reqs = p.reqs[:0]
		p.cmds = p.cmds[:0]
		if p.out.Events != nil {
			select {
			case c.events <- p.out.Events[:0]:
				p.out.Events = nil
			default:
			}
		}
		if write && err == nil && c.project != nil {
			c.project <- p
		} else {
			c.free <- p
		}
	}
}
