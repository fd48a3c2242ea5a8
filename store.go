package twinex

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotFound is returned by stores for a look-up that matched nothing.
var ErrNotFound = errors.New("not found")

// ErrOutcomeUnknown is wrapped by a journal's Append error when the records
// may or may not have been kept: a restart tells.
var ErrOutcomeUnknown = errors.New("whether it was recorded is unknown")

// ErrJournalGap is wrapped by a journal's Replay from a sequence before the
// records it dropped at a checkpoint: the records between are missing, and
// replaying what follows them would skip them silently.
var ErrJournalGap = errors.New("journal records missing")

// JournalGap is the error of a table journal's Replay after the sequence
// after when Truncate dropped its records through cut.
func JournalGap(after, cut uint64) error {
	return fmt.Errorf("journal: %w: the records up to sequence %d were dropped at a checkpoint, but the database holds the exchange "+
		"only up to sequence %d, so the records between are missing. Start with the database this journal was written with, "+
		"or restore from a backup", ErrJournalGap, cut, after)
}

// Counters are the id sequences of the exchange. Each holds the last id
// handed out, so ids increase monotonically across restarts.
type Counters struct {
	OrderID    int64
	TradeID    int64
	TransferID int64
	Seq        int64 // book time priority
	Time       int64 // the last stamp handed out (Unix ns), so that a clock
	// that is behind after a restart cannot stamp anything earlier
}

// JournalRecord is one batch of the command journal: its sequence number
// (increasing, not necessarily by one) and its encoding, which the core
// owns. A journal stores the data as it is and gives it back unchanged.
type JournalRecord struct {
	Seq  uint64
	Data []byte
}

// Journal is the exchange's durability point. The engine is deterministic,
// so a batch is durable once its commands are: the sequencer appends each
// batch's commands, with their stamps and every input that changes their
// outcome, and answers its callers once the append returns. The state
// tables and history are a projection written behind it (ExchangeStore's
// Project), and a checkpoint (ExchangeStore's Checkpoint) lets the records
// it covers be dropped.
//
// Implementations: the append-only files of package journal (the default)
// and a table of batch blobs in package sqlite; both pass
// storetest.RunJournal.
type Journal interface {
	// Append writes records, in order, after every record already
	// appended; each Seq must be greater than the last. When it returns
	// nil they survive a crash; when it returns an error the journal
	// refuses further appends (a restart recovers).
	Append(ctx context.Context, recs []JournalRecord) error
	// Replay calls fn with every record whose Seq is greater than after,
	// in order. Data is valid only during the call. It must not run
	// alongside Append. A journal that can tell that Truncate dropped
	// records after after (the file journal can: its oldest file names
	// the first sequence it may hold) fails rather than skip them.
	Replay(ctx context.Context, after uint64, fn func(JournalRecord) error) error
	// Truncate drops records with Seq up to through (it may keep some of
	// them: files are dropped whole, except that when through covers
	// every record none is kept). Records after through stay.
	Truncate(ctx context.Context, through uint64) error
	// Last returns the Seq of the last record appended, or 0.
	Last() uint64
	// ID names the journal, so that a store and a journal that were not
	// written together are never recovered together.
	ID() string
	// Close releases the journal.
	Close() error
}

// Batch is the effect of one group of commands, written by the sequencer in
// one transaction before any of their callers is answered. Orders, Balances,
// Supply, FeeRates and Candles hold the latest state of what changed (one
// entry per key); Trades and Transfers are new rows.
type Batch struct {
	Orders    []Order
	Trades    []Trade
	Balances  []Balance
	Transfers []Transfer
	Supply    []Supply
	FeeRates  []AccountFees
	Candles   []Candle
	Counters  Counters
	Meta      map[string]string
	// KeyUses are the nonce high-water marks of the API keys whose requests
	// are in this batch: durable with their effects, so that no
	// acknowledged request can be replayed after a crash.
	KeyUses []KeyUse
	// KeyReplays mark the batch's requests from keys with time-based
	// nonces as applied, so that none can be applied again (KeyReplay).
	KeyReplays []KeyReplay
	// JournalSeq, when set, is the Seq of the last journal record this
	// batch projects; the store keeps the largest it was given
	// (State.JournalSeq), so that recovery replays only what follows.
	JournalSeq uint64
}

// Empty reports whether the batch writes nothing.
func (b *Batch) Empty() bool {
	return len(b.Orders) == 0 && len(b.Trades) == 0 && len(b.Balances) == 0 &&
		len(b.Transfers) == 0 && len(b.Supply) == 0 && len(b.FeeRates) == 0 &&
		len(b.Candles) == 0 && len(b.Meta) == 0 && len(b.KeyUses) == 0 &&
		len(b.KeyReplays) == 0
}

// Reset empties the batch, keeping its slices' storage.
func (b *Batch) Reset() {
	*b = Batch{
		Orders: b.Orders[:0], Trades: b.Trades[:0], Balances: b.Balances[:0],
		Transfers: b.Transfers[:0], Supply: b.Supply[:0], FeeRates: b.FeeRates[:0],
		Candles: b.Candles[:0], KeyUses: b.KeyUses[:0], KeyReplays: b.KeyReplays[:0],
	}
}

// Merge adds the effects of next, a later batch, to b: the latest state of
// what both changed, both batches' new rows, the later counters, and the
// larger journal sequence. ix indexes b's keyed entries; it must be new
// (the zero value) or Reset when b is first merged into, and passed again
// with each later Merge into the same b.
func (b *Batch) Merge(next *Batch, ix *MergeIndex) {
	ix.init(b)
	for _, o := range next.Orders {
		b.Orders = upsert(b.Orders, ix.orders, o.ID, o)
	}
	for _, x := range next.Balances {
		b.Balances = upsert(b.Balances, ix.balances, balanceKey{x.AccountID, x.Currency}, x)
	}
	for _, x := range next.Supply {
		b.Supply = upsert(b.Supply, ix.supply, x.Currency, x)
	}
	for _, x := range next.FeeRates {
		b.FeeRates = upsert(b.FeeRates, ix.fees, x.AccountID, x)
	}
	for _, x := range next.Candles {
		b.Candles = upsert(b.Candles, ix.candles, candleKey{x.Market, x.Timeframe, x.Start}, x)
	}
	for _, u := range next.KeyUses {
		// A key's latest use is the one with the largest Seq.
		if i, ok := ix.uses[u.ID]; ok && u.Seq <= b.KeyUses[i].Seq {
			continue
		}
		b.KeyUses = upsert(b.KeyUses, ix.uses, u.ID, u)
	}
	b.Trades = append(b.Trades, next.Trades...)
	b.Transfers = append(b.Transfers, next.Transfers...)
	b.KeyReplays = append(b.KeyReplays, next.KeyReplays...)
	if next.Counters != (Counters{}) {
		b.Counters = next.Counters
	}
	for k, v := range next.Meta {
		if b.Meta == nil {
			b.Meta = map[string]string{}
		}
		b.Meta[k] = v
	}
	b.JournalSeq = max(b.JournalSeq, next.JournalSeq)
}

// upsert replaces the entry of dst with key k by v, or appends v, keeping
// ix (key -> position in dst) up to date.
func upsert[K comparable, T any](dst []T, ix map[K]int, k K, v T) []T {
	if i, ok := ix[k]; ok {
		dst[i] = v
		return dst
	}
	ix[k] = len(dst)
	return append(dst, v)
}

type balanceKey struct {
	account  int64
	currency string
}

type candleKey struct {
	market, timeframe string
	start             int64
}

// MergeIndex is Batch.Merge's index of the keyed entries a batch holds.
type MergeIndex struct {
	built    bool
	orders   map[int64]int
	balances map[balanceKey]int
	supply   map[string]int
	fees     map[int64]int
	candles  map[candleKey]int
	uses     map[string]int
}

// init builds the index of b on the first Merge into it.
func (ix *MergeIndex) init(b *Batch) {
	if ix.built {
		return
	}
	ix.built = true
	if ix.orders == nil {
		ix.orders, ix.balances, ix.supply = map[int64]int{}, map[balanceKey]int{}, map[string]int{}
		ix.fees, ix.candles, ix.uses = map[int64]int{}, map[candleKey]int{}, map[string]int{}
	}
	for i, o := range b.Orders {
		ix.orders[o.ID] = i
	}
	for i, x := range b.Balances {
		ix.balances[balanceKey{x.AccountID, x.Currency}] = i
	}
	for i, x := range b.Supply {
		ix.supply[x.Currency] = i
	}
	for i, x := range b.FeeRates {
		ix.fees[x.AccountID] = i
	}
	for i, x := range b.Candles {
		ix.candles[candleKey{x.Market, x.Timeframe, x.Start}] = i
	}
	for i, u := range b.KeyUses {
		ix.uses[u.ID] = i
	}
}

// Reset empties ix for a batch to be merged into afresh, keeping its
// maps' storage: a merger that reuses one batch (Reset) and one index
// does not grow new maps for each.
func (ix *MergeIndex) Reset() {
	ix.built = false
	clear(ix.orders)
	clear(ix.balances)
	clear(ix.supply)
	clear(ix.fees)
	clear(ix.candles)
	clear(ix.uses)
}

// State is what recovery needs to rebuild the exchange exactly as it was
// acknowledged.
type State struct {
	// JournalSeq is the Seq of the last journal record projected into
	// this state (0 if none): recovery replays the records after it.
	JournalSeq uint64
	Counters   Counters
	OpenOrders []Order // pending and live orders, in Seq order
	Balances   []Balance
	Supply     []Supply
	FeeRates   []AccountFees
	Meta       map[string]string
}

// OrderQuery selects orders, newest first.
type OrderQuery struct {
	AccountID     int64  // required
	Market        string // optional
	ClientOrderID string // optional
	ClosedOnly    bool   // only filled and cancelled orders
	After         int64  // only orders created after this Unix ns time (0: any)
	BeforeID      int64  // only orders with a smaller id (0: any), for paging back
	Limit         int    // at most this many (0: 50)
}

// TradeQuery selects trades, newest first (oldest first with Ascending).
type TradeQuery struct {
	Market    string // optional
	AccountID int64  // optional: trades where the account was maker or taker
	OrderID   int64  // optional: trades of this order
	After     int64  // only trades at or after this Unix ns time (0: any)
	AfterID   int64  // only trades with a larger id (0: any)
	BeforeID  int64  // only trades with a smaller id (0: any), for paging back
	Limit     int    // at most this many (0: 50)
	// Ascending returns the oldest matching trades first, for paging
	// forward from After or AfterID without gaps.
	Ascending bool
}

// TransferQuery selects transfers, newest first (oldest first with
// Ascending).
type TransferQuery struct {
	AccountID int64  // required
	Currency  string // optional
	After     int64  // only transfers at or after this Unix ns time (0: any)
	AfterID   int64  // only transfers with a larger id (0: any)
	BeforeID  int64  // only transfers with a smaller id (0: any), for paging back
	Limit     int    // at most this many (0: 10)
	Ascending bool
}

// CandleQuery selects candles, newest first.
type CandleQuery struct {
	Market    string
	Timeframe string
	Since     int64 // only candles starting at or after this Unix ns time
	Limit     int   // at most this many (0: 1000)
}

// ExchangeStore is the durable home of the exchange's money state and
// history. The sequencer is its only writer (through Commit); readers query
// history. Implementations: sqlite (the default) and, later, postgres; both
// pass the contract suite in storetest.
type ExchangeStore interface {
	// Commit writes a batch atomically and durably: when it returns nil the
	// batch survives a crash; when it returns an error nothing of it was
	// written.
	Commit(ctx context.Context, b *Batch) error
	// Project writes a batch atomically like Commit, but need not make it
	// durable before it returns: it projects journal records that are
	// durable already (b.JournalSeq says up to which). A crash may lose
	// the latest projections, never part of one, and never one that a
	// later Checkpoint covered.
	Project(ctx context.Context, b *Batch) error
	// Checkpoint makes every projection so far durable, so that the
	// journal records they cover can be dropped.
	Checkpoint(ctx context.Context) error
	// JournalID returns the ID of the journal the store's projection was
	// written with ("" before the first), and SetJournalID records it,
	// durably.
	JournalID(ctx context.Context) (string, error)
	SetJournalID(ctx context.Context, id string) error
	// LoadState returns the state to recover from.
	LoadState(ctx context.Context) (*State, error)
	// Order returns one order by id, or ErrNotFound.
	Order(ctx context.Context, id int64) (Order, error)
	// Orders, Trades, Transfers and Candles query history, newest first.
	Orders(ctx context.Context, q OrderQuery) ([]Order, error)
	Trades(ctx context.Context, q TradeQuery) ([]Trade, error)
	Transfers(ctx context.Context, q TransferQuery) ([]Transfer, error)
	Candles(ctx context.Context, q CandleQuery) ([]Candle, error)
	// Close releases the store.
	Close() error
}
