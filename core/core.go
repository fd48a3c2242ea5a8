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
	"log/slog"
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
	// writes them before the sequencer waits for it (default 256). A
	// larger merge costs less per row: a new order's index entry lands at
	// a random place, and the more of them one transaction writes, the
	// more of them share a page (docs/PERFORMANCE.md, "The projection's
	// bound"). The pool of batches is MaxLag + 2.
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
	// replay: the rows a recovery's replay gathered outside batch, added
	// to it when it is projected.
	replay *replayRows
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

	// storeCtx is the context of the committer's and the projector's store
	// and journal calls; Abort cancels it.
	storeCtx context.Context
	abort    context.CancelFunc
	buf      []byte // the committer's record buffer
	// events carries event buffers from the committer, done with them once
	// a batch is published, back to the sequencer. The projector keeps a
	// pending for a while, and without this each of the pool's pendings
	// would grow and hold its own buffer, one order copied per event.
	events chan []engine.Event
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
		cfg.MaxLag = 256
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
		events:      make(chan []engine.Event, 4),
	}
	c.reqs.New = func() any { return &request{done: make(chan struct{}, 1)} }
	if err := c.recover(ctx); err != nil {
		return nil, err
	}
	c.storeCtx, c.abort = context.WithCancel(context.Background())
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

// Abort cancels the context of the store and journal writes, those in
// flight and every later one, so that a server letting go of a database it
// can no longer reach (a leader deposed, or cut off) need not wait on a
// connection that died without a word: Close then returns once the
// goroutines have seen it. (Stores on a network honour the context; the
// SQLite store and the file journal, which do not wait on one, finish
// their write.) The commands of a batch whose write was cut short get an
// error, never an acknowledgement, saying that the outcome is unknown:
// whether the write reached the database is for the next recovery to find,
// as after a crash.
func (c *Core) Abort() {
	c.abort()
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
	defer c.abort()
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
