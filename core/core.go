// Package core runs the sequencer: the single goroutine that owns the
// engine (every book and balance) and the market data. Commands arrive on a
// queue; the sequencer takes as many as are waiting (up to MaxBatch), stamps
// each with its own time, applies them, and hands the batch's effects to the
// committer goroutine, which writes them to the store in one transaction
// (group commit) and only then answers the callers and publishes snapshots.
// While one batch commits the next is applied, so the two cores work at
// once. No acknowledged command is ever lost: a caller is answered only after
// its batch is durable, and if a commit fails the core stops taking commands
// (its in-memory state is ahead of the store) until a restart recovers from
// the store.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/marketdata"
)

// ErrClosed is returned for commands submitted after Close.
var ErrClosed = errors.New("core: closed")

// DefaultMaxBatch is the most commands applied and committed together.
const DefaultMaxBatch = 4096

// metaScales is the meta key recording each currency's ledger scale, so that
// a changed market file cannot reinterpret stored balances.
const metaScales = "currency_scales"

// metaUnits records each market's price and amount decimals, for the same
// reason.
const metaUnits = "market_units"

// metaRules records each market's tick, step, minimum and configured
// status: the engine's outcome depends on them, so the journal's records
// replay as they were acknowledged only under the rules they ran under.
const metaRules = "market_rules"

// Config holds a Core's dependencies. Store and Markets are required.
type Config struct {
	Store    twinex.ExchangeStore
	Markets  *twinex.Markets
	Now      func() time.Time // default time.Now
	Logger   *slog.Logger     // default: discard
	MaxBatch int              // default DefaultMaxBatch
	// RefreshEvery is how often snapshots of markets no batch touched are
	// republished, so that their 24-hour figures roll forward (default 30s).
	RefreshEvery time.Duration
	// OnCommit, if set, is called on the committer goroutine after each
	// durable commit, in commit order. The Committed and its slices are
	// valid only during the call.
	OnCommit func(*Committed)
	// OnBatch, if set, is called on the committer goroutine after each
	// batch, with its figures (for metrics).
	OnBatch func(BatchStats)
	// Journal, when set, is the durability point: each batch's commands
	// are appended to it and its callers answered once the append
	// returns; the store is a projection written behind it (Project),
	// checkpointed every CheckpointEvery, after which the journal records
	// it covers are dropped. Without a journal each batch is committed to
	// the store before its callers are answered.
	Journal twinex.Journal
	// CheckpointEvery is how often the projection is made durable and the
	// journal truncated (default 10s).
	CheckpointEvery time.Duration
	// KeepJournal keeps every journal record, for tests that recover from
	// the journal alone.
	KeepJournal bool
	// MaxLag is how many batches the projector merges into one
	// transaction at most, and how many more may be journaled while it
	// writes them before the sequencer waits for it (default 64).
	MaxLag int
	// ProjectEvery is how long the projector gathers batches into one
	// transaction (default 20ms): fewer, larger transactions write each
	// page once. A read waiting for the projection (Caught) cuts it short.
	ProjectEvery time.Duration
}

// BatchStats are one batch's figures: its commands, and how long the
// sequencer took to apply them and the store to commit them.
type BatchStats struct {
	Commands int
	Apply    time.Duration
	Commit   time.Duration
	Failed   bool
}

// QueueDepth is how many commands wait for the sequencer.
func (c *Core) QueueDepth() int { return len(c.in) }

// Committed is what one durable batch produced.
type Committed struct {
	// Seq numbers the batches in commit order, increasing across
	// restarts (with a journal it is the batch's journal sequence); an
	// OpenOrders Mark refers to it.
	Seq       uint64
	Events    []engine.Event
	Trades    []twinex.Trade
	Transfers []twinex.Transfer
	// Snapshots are the snapshots this batch published, one per market it
	// touched (or refreshed), already visible through Snapshot.
	Snapshots []*Snapshot
}

// Mark is a point in the stream of committed events: event Event of batch
// Seq (an index into Committed.Events). Events before it are reflected in
// a read made at the mark; events at or after it are not.
type Mark struct {
	Seq   uint64
	Event int
}

// Before reports whether event i of batch seq comes before the mark.
func (m Mark) Before(seq uint64, i int) bool {
	return seq < m.Seq || (seq == m.Seq && i < m.Event)
}

// Snapshot is an immutable view of one market, published after each commit
// that changed it. Readers must not modify it.
type Snapshot struct {
	Market  *twinex.Market
	Index   int
	Bids    []engine.Level // best first
	Asks    []engine.Level // best first
	Stats   marketdata.Stats
	Trades  []twinex.Trade  // recent, newest first
	Candles []twinex.Candle // the latest candle of each timeframe
	Time    int64           // Unix ns the snapshot was taken at

	// Status is which orders the market accepts now.
	Status twinex.MarketStatus
}

// request is one queued command (or inspection) and its answer.
type request struct {
	cmd     engine.Command
	use     twinex.KeyUse
	inspect func(*engine.Exchange)
	mark    *Mark // set by the sequencer when inspect runs
	res     engine.Result
	err     error
	done    chan struct{}
}

// pending is one applied batch on its way through the committer (and,
// with a journal, the projector).
type pending struct {
	cmds    []*engine.Command // the commands applied, for the journal
	uses    map[string]int    // key id -> index in batch.KeyUses
	reqs    []*request
	out     engine.Output
	batch   twinex.Batch
	snaps   []*Snapshot
	seq     uint64
	applied time.Duration // the sequencer's time on the batch, when measured
}

// Core is a running sequencer and committer.
type Core struct {
	cfg     Config
	log     *slog.Logger
	x       *engine.Exchange
	md      *marketdata.State
	in      chan *request
	commits chan *pending
	free    chan *pending
	done    chan struct{}
	snaps   []atomic.Pointer[Snapshot]
	failed  atomic.Pointer[error]
	mu      sync.RWMutex // guards closed against sends on in
	closed  bool
	last    int64  // last stamp, sequencer goroutine only
	seq     uint64 // last batch number, sequencer goroutine only
	touched []int
	built   []*Snapshot // the last snapshot built per market, maybe not yet published
	reqs    sync.Pool

	// With a journal: the projector's queue, the last sequence appended
	// to the journal (answered) and the last one projected. projAdvance
	// is closed and replaced whenever projected moves.
	project     chan *pending
	journaled   atomic.Uint64
	projected   atomic.Uint64
	projMu      sync.Mutex
	projAdvance chan struct{}
	wanted      chan struct{} // a reader waits for the projection
	recovered   *pending      // the recovery's replay, the projector's first job
	buf         []byte        // the committer's record buffer
}

// Open recovers the exchange from the store (books, balances, holds,
// pending stops, id counters and market data exactly as acknowledged),
// verifies the ledger invariants, and starts the sequencer. It refuses to
// start when the stored state violates an invariant or when the market
// configuration changed a currency's scale.
func Open(ctx context.Context, cfg Config) (*Core, error) {
	if cfg.Store == nil || cfg.Markets == nil {
		return nil, errors.New("core: Store and Markets are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = 30 * time.Second
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 10 * time.Second
	}
	if cfg.MaxLag <= 0 {
		cfg.MaxLag = 64
	}
	if cfg.ProjectEvery <= 0 {
		cfg.ProjectEvery = 20 * time.Millisecond
	}
	c := &Core{
		cfg:         cfg,
		log:         cfg.Logger,
		x:           engine.New(cfg.Markets),
		md:          marketdata.New(cfg.Markets),
		in:          make(chan *request, cfg.MaxBatch),
		commits:     make(chan *pending, 1),
		free:        make(chan *pending, 2),
		done:        make(chan struct{}),
		snaps:       make([]atomic.Pointer[Snapshot], len(cfg.Markets.List)),
		built:       make([]*Snapshot, len(cfg.Markets.List)),
		projAdvance: make(chan struct{}),
		wanted:      make(chan struct{}, 1),
	}
	c.reqs.New = func() any { return &request{done: make(chan struct{}, 1)} }
	if err := c.recover(ctx); err != nil {
		return nil, err
	}
	pool := 2
	if cfg.Journal != nil {
		pool = 2 + cfg.MaxLag
		c.project = make(chan *pending, pool+1)
		c.free = make(chan *pending, pool)
	}
	for range pool {
		c.free <- &pending{}
	}
	go c.sequence()
	if cfg.Journal != nil {
		projected := make(chan struct{})
		go c.projector(projected)
		go c.commit(projected)
	} else {
		go c.commit(nil)
	}
	return c, nil
}

func (c *Core) recover(ctx context.Context) error {
	st, err := c.cfg.Store.LoadState(ctx)
	if err != nil {
		return fmt.Errorf("core: load state: %w", err)
	}
	scales, units, rules := scaleString(c.cfg.Markets), unitString(c.cfg.Markets), ruleString(c.cfg.Markets)
	if old, ok := st.Meta[metaScales]; ok {
		if err := compareUnits("currency", old, scales); err != nil {
			return fmt.Errorf("core: %w", err)
		}
	}
	if old, ok := st.Meta[metaUnits]; ok {
		if err := compareUnits("market", old, units); err != nil {
			return fmt.Errorf("core: %w", err)
		}
	}
	now := c.cfg.Now().UnixNano()
	last := map[string]int64{}
	for _, m := range c.cfg.Markets.List {
		trades, err := c.cfg.Store.Trades(ctx, twinex.TradeQuery{Market: m.Symbol, Limit: marketdata.RecentTrades})
		if err != nil {
			return fmt.Errorf("core: load trades of %s: %w", m.Symbol, err)
		}
		var candles []twinex.Candle
		for k, tf := range twinex.Timeframes {
			q := twinex.CandleQuery{Market: m.Symbol, Timeframe: tf.Name, Limit: 1}
			if k == 0 {
				// The last day's minutes and the one before them, which
				// is the price before the 24-hour window.
				q.Limit = 1441
			}
			cs, err := c.cfg.Store.Candles(ctx, q)
			if err != nil {
				return fmt.Errorf("core: load candles of %s: %w", m.Symbol, err)
			}
			candles = append(candles, cs...)
		}
		if len(trades) > 0 {
			last[m.Symbol] = trades[0].Price // newest first
		}
		c.md.Restore(m.Symbol, trades, candles)
	}
	if err := c.x.Restore(st, last); err != nil {
		return fmt.Errorf("core: %w", err)
	}
	c.seq = st.JournalSeq
	c.projected.Store(st.JournalSeq)
	c.journaled.Store(st.JournalSeq)
	if c.cfg.Journal != nil {
		if err := c.replay(ctx, st, rules); err != nil {
			return fmt.Errorf("core: %w", err)
		}
	}
	if err := c.x.Check(); err != nil {
		return fmt.Errorf("core: the stored state violates the ledger invariants; refusing to start: %w", err)
	}
	if st.Meta[metaScales] != scales || st.Meta[metaUnits] != units || st.Meta[metaRules] != rules {
		b := &twinex.Batch{Meta: map[string]string{metaScales: scales, metaUnits: units, metaRules: rules}}
		if c.recovered == nil {
			b.Counters = c.x.Counters()
		}
		if err := c.cfg.Store.Commit(ctx, b); err != nil {
			return fmt.Errorf("core: record currency scales: %w", err)
		}
	}
	// Stamps go on from the last one stored even if the clock is behind
	// (a step back, a moved data directory): history never goes backwards.
	c.last = max(now, st.Counters.Time, c.x.Counters().Time)
	for i := range c.cfg.Markets.List {
		c.snaps[i].Store(c.snapshot(i, now, true))
	}
	c.log.Info("exchange recovered", "open_orders", len(st.OpenOrders), "balances", len(st.Balances),
		"last_order_id", st.Counters.OrderID, "last_trade_id", st.Counters.TradeID)
	return nil
}

// scaleString renders the currencies' ledger scales as "BTC:11,USD:10".
func scaleString(ms *twinex.Markets) string {
	var parts []string
	for _, cur := range ms.Currencies {
		parts = append(parts, cur.Code+":"+strconv.Itoa(cur.Scale))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// unitString renders the markets' price and amount decimals as
// "btcusd:2/8,ethbtc:5/6": stored prices and amounts are counts of these
// units, so they must not change under stored orders and trades.
func unitString(ms *twinex.Markets) string {
	var parts []string
	for _, m := range ms.List {
		parts = append(parts, fmt.Sprintf("%s:%d/%d", m.Symbol, m.PriceDecimals, m.AmountDecimals))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// ruleString renders what the engine checks orders against, per market:
// "btcusd:1/1/1000/open,...".
func ruleString(ms *twinex.Markets) string {
	var parts []string
	for _, m := range ms.List {
		parts = append(parts, fmt.Sprintf("%s:%d/%d/%d/%s", m.Symbol, m.PriceTick, m.AmountStep, m.MinAmount, m.Status))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// compareUnits refuses a configuration that changes the units of a currency
// or market the store already knows ("what" names which, for the message).
// New ones are fine; a removed one is caught by the restore if anything
// still refers to it.
func compareUnits(what, stored, now string) error {
	cur := map[string]string{}
	for _, p := range strings.Split(now, ",") {
		if k, v, ok := strings.Cut(p, ":"); ok {
			cur[k] = v
		}
	}
	for _, p := range strings.Split(stored, ",") {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			continue
		}
		if nv, present := cur[k]; present && nv != v {
			return fmt.Errorf("%s %s has units %s in the store but %s in the market configuration; stored amounts would change meaning", what, k, v, nv)
		}
	}
	return nil
}

// Do submits one command and waits until its batch is durable. The error
// is ErrClosed after Close, the context's error if ctx ends first (a command
// already queued may still be executed), or a System *twinex.Error when the
// store failed. Business outcomes (rejections) are in Result.Err.
func (c *Core) Do(ctx context.Context, cmd engine.Command) (engine.Result, error) {
	return c.DoUse(ctx, cmd, twinex.KeyUse{})
}

// DoUse is Do for a command an API key authorised: the key's use (its nonce
// high-water mark) is written in the same transaction as the command's
// effects.
func (c *Core) DoUse(ctx context.Context, cmd engine.Command, use twinex.KeyUse) (engine.Result, error) {
	r := c.reqs.Get().(*request)
	r.cmd, r.use, r.inspect, r.mark = cmd, use, nil, nil
	return c.submit(ctx, r)
}

// Sync returns once every command submitted before it is durable: a
// probe that the sequencer and the commit pipeline are moving. It fails
// like Do (ErrClosed, ctx's error, a store failure).
func (c *Core) Sync(ctx context.Context) error {
	return c.Inspect(ctx, func(*engine.Exchange) {})
}

// Inspect runs fn on the sequencer goroutine, in order with commands, and
// returns once everything before it is durable. fn must only read.
func (c *Core) Inspect(ctx context.Context, fn func(*engine.Exchange)) error {
	r := c.reqs.Get().(*request)
	r.cmd, r.use, r.inspect, r.mark = engine.Command{}, twinex.KeyUse{}, fn, nil
	_, err := c.submit(ctx, r)
	return err
}

// OpenOrders returns the open orders of the given accounts, oldest first
// per account, and the Mark they were read at: a stream that applies the
// committed events from the mark on (skipping those Before it) continues
// the list with no gap and no duplicate. It returns once the read is
// durable, like Inspect.
func (c *Core) OpenOrders(ctx context.Context, accounts []int64) ([]twinex.Order, Mark, error) {
	var out []twinex.Order
	var mark Mark
	r := c.reqs.Get().(*request)
	r.cmd, r.use, r.mark = engine.Command{}, twinex.KeyUse{}, &mark
	r.inspect = func(x *engine.Exchange) {
		for _, id := range accounts {
			out = append(out, x.OpenOrders(id)...)
		}
	}
	_, err := c.submit(ctx, r)
	return out, mark, err
}

func (c *Core) submit(ctx context.Context, r *request) (engine.Result, error) {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		c.reqs.Put(r)
		return engine.Result{}, ErrClosed
	}
	select {
	case c.in <- r:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		c.reqs.Put(r)
		return engine.Result{}, ctx.Err()
	}
	select {
	case <-r.done:
		res, err := r.res, r.err
		r.res, r.err = engine.Result{}, nil
		c.reqs.Put(r)
		return res, err
	case <-ctx.Done():
		// The sequencer still owns r and will answer into its buffered
		// channel; r is left to the garbage collector.
		return engine.Result{}, ctx.Err()
	}
}

// Snapshot returns the latest published snapshot of market i.
func (c *Core) Snapshot(i int) *Snapshot { return c.snaps[i].Load() }

// Markets returns the configured markets.
func (c *Core) Markets() *twinex.Markets { return c.cfg.Markets }

// Err returns the error that stopped the core (a failed commit), or nil
// while it is healthy.
func (c *Core) Err() error {
	if p := c.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops accepting commands, waits until every queued command has been
// applied, committed and answered, and stops the goroutines. It does not
// close the store.
func (c *Core) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return c.Err()
	}
	c.closed = true
	close(c.in)
	c.mu.Unlock()
	<-c.done
	return c.Err()
}

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
	ctx := context.Background()
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
		if write && err == nil && c.project != nil {
			c.project <- p
		} else {
			c.free <- p
		}
	}
}

// projector is the projector goroutine: it writes the effects of journaled
// batches into the store, several at a time merged into one transaction,
// and checkpoints every CheckpointEvery. It closes done when the committer
// has stopped and everything is projected, checkpointed and (unless
// KeepJournal) dropped from the journal.
func (c *Core) projector(done chan struct{}) {
	defer close(done)
	ctx := context.Background()
	var acc twinex.Batch
	var ix twinex.MergeIndex
	var taken []*pending
	lastCheckpoint := time.Now()
	failed := false
	project := func() {
		if len(taken) == 0 {
			return
		}
		acc.Reset()
		ix = twinex.MergeIndex{}
		for _, p := range taken {
			acc.Merge(&p.batch, &ix)
		}
		// acc holds a copy of everything taken: the batches go back to the
		// sequencer now, so that the engine runs on while the store writes.
		// The lag stays bounded: the sequencer waits for a free batch once
		// the pool's are all journaled and waiting here.
		for _, p := range taken {
			if p != c.recovered {
				p.batch.Reset()
				c.free <- p
			}
		}
		c.recovered = nil
		taken = taken[:0]
		if !failed {
			if err := c.cfg.Store.Project(ctx, &acc); err != nil {
				err = fmt.Errorf("core: project: %w", err)
				c.failed.CompareAndSwap(nil, &err)
				c.log.Error("projecting the journal failed; the exchange stops taking commands until restarted", "err", err)
				failed = true
				c.advance(0) // wake readers: they see the failure
			} else {
				c.advance(acc.JournalSeq)
			}
		}
		if !failed && time.Since(lastCheckpoint) >= c.cfg.CheckpointEvery {
			c.checkpoint(ctx, false)
			lastCheckpoint = time.Now()
		}
	}
	if c.recovered != nil {
		taken = append(taken, c.recovered)
		project()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for p := range c.project {
		taken = append(taken, p)
		// Gather what arrives for ProjectEvery, unless a reader waits.
		select {
		case <-c.wanted:
		default:
		}
		timer.Reset(c.cfg.ProjectEvery)
	gather:
		for len(taken) < c.cfg.MaxLag {
			select {
			case q, ok := <-c.project:
				if !ok {
					break gather
				}
				taken = append(taken, q)
			case <-c.wanted:
				break gather
			case <-timer.C:
				break gather
			}
		}
		// Everything already waiting goes in too.
	drain:
		for len(taken) < c.cfg.MaxLag {
			select {
			case q, ok := <-c.project:
				if !ok {
					break drain
				}
				taken = append(taken, q)
			default:
				break drain
			}
		}
		project()
	}
	if !failed {
		c.checkpoint(ctx, true)
	}
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

// replay recovers the journal records after the store's projection (st):
// their commands are applied to the restored exchange exactly as they were
// first applied, and their effects merged into one batch that the
// projector writes first. A journal that was not written with this store
// is refused unless it holds nothing to replay.
func (c *Core) replay(ctx context.Context, st *twinex.State, rules string) error {
	j := c.cfg.Journal
	stored, err := c.cfg.Store.JournalID(ctx)
	if err != nil {
		return err
	}
	pristine := st.JournalSeq == 0 && st.Counters == (twinex.Counters{}) && len(st.Balances) == 0
	foreign := stored != j.ID() && !(stored == "" && pristine)
	// The engine and the market data keep what changed until taken, the
	// latest state of each once, so the whole replay is taken as one
	// batch at the end; only the new rows and the key uses are gathered
	// per record.
	acc := &pending{}
	b := &acc.batch
	uses := map[string]int{}
	var out engine.Output
	var records, commands int
	check := func(twinex.JournalRecord) error {
		if foreign {
			return fmt.Errorf("the journal (id %s) was not written with this database (journal id %q) and holds records after its sequence %d; "+
				"start with the journal that belongs to this database, or move the journal directory aside to start from the database alone", j.ID(), stored, st.JournalSeq)
		}
		if was := st.Meta[metaRules]; was != "" && was != rules {
			return fmt.Errorf("the market configuration changed (ticks, steps, minimum sizes or statuses: %q, was %q) while the journal holds "+
				"commands after sequence %d that ran under the old one: start once with the previous configuration so that they replay "+
				"as they were acknowledged, stop cleanly, then change it", rules, was, st.JournalSeq)
		}
		return nil
	}
	err = readAhead(ctx, j, st.JournalSeq, c.cfg.Markets, check, func(d *decoded) {
		r := &d.r
		out.Reset()
		for i := range r.cmds {
			c.x.Apply(&r.cmds[i], &out)
		}
		c.md.Apply(out.Trades)
		b.Trades = append(b.Trades, out.Trades...)
		b.Transfers = append(b.Transfers, out.Transfers...)
		for _, u := range r.uses {
			if i, ok := uses[u.ID]; !ok {
				uses[u.ID] = len(b.KeyUses)
				b.KeyUses = append(b.KeyUses, u)
			} else if u.Seq > b.KeyUses[i].Seq {
				b.KeyUses[i] = u
			}
		}
		b.KeyReplays = append(b.KeyReplays, r.replays...)
		for k, v := range r.meta {
			if b.Meta == nil {
				b.Meta = map[string]string{}
			}
			b.Meta[k] = v
		}
		b.JournalSeq = d.seq
		records++
		commands += len(r.cmds)
	})
	if err != nil {
		return err
	}
	if len(b.KeyUses) > 0 || len(b.KeyReplays) > 0 {
		// Keys read their nonce and replay marks from the store when
		// first used: those of the replayed requests are written now,
		// before anything is served, not with the rest of the projection.
		if err := c.cfg.Store.Commit(ctx, &twinex.Batch{KeyUses: b.KeyUses, KeyReplays: b.KeyReplays}); err != nil {
			return fmt.Errorf("record the replayed key uses: %w", err)
		}
	}
	if records > 0 {
		// The market statuses TakeChanges adds are those the last
		// records' meta already holds.
		c.x.TakeChanges(b)
		c.md.TakeCandles(b)
	}
	c.touched = c.x.TakeTouched(c.touched[:0])
	if stored != j.ID() {
		if err := c.cfg.Store.SetJournalID(ctx, j.ID()); err != nil {
			return err
		}
	}
	if last := max(j.Last(), b.JournalSeq); last > c.seq {
		c.seq = last
	}
	if records > 0 {
		c.recovered = acc
		c.journaled.Store(b.JournalSeq)
		c.log.Info("journal replayed", "records", records, "commands", commands, "from", st.JournalSeq, "to", b.JournalSeq)
	}
	return nil
}
