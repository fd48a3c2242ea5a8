package feed

import (
	"sync/atomic"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// Kind says what a Msg holds.
type Kind uint8

const (
	// KindSnapshot is a market's book (Bids, Asks) and its recent Trades,
	// newest first.
	KindSnapshot Kind = iota + 1
	// KindUpdate is what one batch did to a market: level Changes and new
	// Trades, oldest first.
	KindUpdate
	// KindCandles is candles of timeframe TF, newest first: the history on
	// subscribe, then each changed candle.
	KindCandles
	// KindOrders is order events of one account, in exchange order.
	KindOrders
)

// Change is the new state of one price level.
type Change struct {
	Side   twinex.Side
	Price  int64
	Amount int64  // the level's new total; 0 removes it
	Delta  int64  // Amount minus the old total
	Reason string // "place", "trade" or "cancel" (Gemini v1's reasons)
}

// OrderEvent is one committed order event and where it stands in the
// stream.
type OrderEvent struct {
	engine.Event
	Seq   uint64 // the batch (core.Committed.Seq)
	Index int    // its index in the batch's events
	ID    int64  // the event id sent to clients
	// Type and Reason are set on events the engine does not emit because
	// the command changed nothing: "rejected" (a refused order) and
	// "cancel_rejected" (a refused cancel), with the Gemini reason.
	Type   string
	Reason string
}

// TypeName returns the event's Gemini type.
func (e *OrderEvent) TypeName() string {
	if e.Type != "" {
		return e.Type
	}
	return e.Kind.String()
}

// Msg is one message for subscribers. A Msg is shared by every subscriber
// it is queued for and must not be modified; Encoded caches renderings.
type Msg struct {
	Kind    Kind
	Market  int       // index in Markets.List (not KindOrders)
	Time    int64     // Unix ns: the commit's stamp (snapshots: when taken)
	At      time.Time // when the hub received the commit, for latency
	EventID int64     // increasing across the hub; v1's eventId
	// PrevEventID is the EventID of the market's previous update (0 for
	// none): an update continues the stream of one market exactly when its
	// PrevEventID is the last EventID seen. On a snapshot it is the id of
	// the last update the snapshot includes.
	PrevEventID int64
	Bids        []engine.Level
	Asks        []engine.Level
	Changes     []Change
	Trades      []twinex.Trade
	TF          int // KindCandles: index in twinex.Timeframes
	Candles     []twinex.Candle
	Account     int64 // KindOrders
	Events      []OrderEvent

	// Top is the market's best bid and best ask after an update (a zero
	// Level when that side is empty).
	Top [2]engine.Level

	enc [8]atomic.Pointer[[][]byte]
	run atomic.Pointer[encodedRun]
}

type encodedRun struct {
	last  int64
	frame []byte
}

// Slots is how many renderings a Msg caches.
const Slots = 8

// Encoded returns the frames rendering m in slot i, computing them with f
// the first time. Adapters give each wire shape that is the same for every
// subscriber its own slot, so a message is rendered once, not once per
// subscriber. Two callers racing may both run f; either result is kept.
func (m *Msg) Encoded(i int, f func() [][]byte) [][]byte {
	if p := m.enc[i].Load(); p != nil {
		return *p
	}
	b := f()
	m.enc[i].Store(&b)
	return b
}

// EncodedRun returns a frame rendering m together with the updates after
// it, up to the one whose EventID is last, computing it with f the first
// time (for one adapter's wire shape: the v2 feed merges a run of book
// updates into one frame). Subscribers of a market get the same runs as a
// rule, so the frame is rendered once; a different run replaces it.
func (m *Msg) EncodedRun(last int64, f func() []byte) []byte {
	if p := m.run.Load(); p != nil && p.last == last {
		return p.frame
	}
	b := f()
	m.run.Store(&encodedRun{last, b})
	return b
}
