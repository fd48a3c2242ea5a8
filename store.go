package twinex

import (
	"context"
	"errors"
)

// ErrNotFound is returned by stores for a look-up that matched nothing.
var ErrNotFound = errors.New("not found")

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

// State is what recovery needs to rebuild the exchange exactly as it was
// acknowledged.
type State struct {
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
