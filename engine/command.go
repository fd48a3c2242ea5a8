package engine

// The engine's messages: the commands it applies and the events, results and
// output they produce.

import (
	"github.com/twinex/twinex"
)

// CommandKind says what a command does.
type CommandKind uint8

const (
	// Place a new order (fields AccountID, Session, ClientOrderID, Market,
	// Side, Type, Option, Price, StopPrice, Amount).
	Place CommandKind = iota + 1
	// Cancel one open order of AccountID (OrderID, Reason).
	Cancel
	// CancelAll cancels every open order of AccountID.
	CancelAll
	// CancelSession cancels the open orders AccountID placed through Session.
	CancelSession
	// Deposit credits Funds of Currency to AccountID from outside.
	DepositFunds
	// Withdraw debits Funds (plus Fee, to the fee account) of Currency.
	WithdrawFunds
	// Transfer moves Funds of Currency from AccountID to ToAccount.
	TransferFunds
	// SetFees sets AccountID's fee rates for orders placed from now on.
	SetFees
	// SetMarketStatus sets Market's status (Status): which orders it
	// accepts from now on. Resting orders stay.
	SetMarketStatus
)

// MetaMarketStatus is the prefix of the store meta key that keeps a
// market's status once an operator changed it ("market_status:btcusd").
const MetaMarketStatus = "market_status:"

// Command is one input of the engine. Amounts in Funds and Fee are ledger
// units of Currency; order prices and amounts are in the market's units.
type Command struct {
	Kind CommandKind
	Time int64 // Unix ns, stamped by the sequencer

	AccountID     int64
	Session       string
	ClientOrderID string
	Market        int // index into Markets.List
	Side          twinex.Side
	Type          twinex.OrderType
	Option        twinex.Option
	Price         int64
	StopPrice     int64
	Amount        int64

	OrderID int64
	Reason  string // cancel reason; Requested when empty

	Currency    string // upper-case code
	Funds       int64
	Fee         int64
	ToAccount   int64
	Destination string
	TxHash      string
	ClientID    string
	Method      string

	Fees twinex.FeeRates

	Status twinex.MarketStatus // SetMarketStatus
}

// Result is what the caller of one command learns. When Err is set (always
// a *twinex.Error) the command changed nothing.
type Result struct {
	Err       error
	Order     twinex.Order      // Place and Cancel: the order after the command
	Cancelled []int64           // CancelAll and CancelSession: ids, in order
	Transfers []twinex.Transfer // funding commands: the records written
}

// EventKind names an order event.
type EventKind uint8

const (
	EventAccepted  EventKind = iota + 1 // validated and funds held
	EventBooked                         // resting on the book
	EventFill                           // traded (Fill is set)
	EventCancelled                      // cancelled (Order.CancelReason says why)
	EventClosed                         // final event of every order
	EventTriggered                      // a stop order's trigger was reached
)

// String returns Gemini's order-event type spelling.
func (k EventKind) String() string {
	switch k {
	case EventAccepted:
		return "accepted"
	case EventBooked:
		return "booked"
	case EventFill:
		return "fill"
	case EventCancelled:
		return "cancelled"
	case EventClosed:
		return "closed"
	case EventTriggered:
		return "triggered"
	}
	return "unknown"
}

// Fill describes one order's side of a trade.
type Fill struct {
	TradeID int64
	Price   int64
	Amount  int64
	Fee     int64 // quote ledger units
	Maker   bool
}

// Event is a change of one order; Order is its state right after.
type Event struct {
	Kind  EventKind
	Order twinex.Order
	Fill  Fill
}

// Output collects what commands produce. The caller owns it and resets it
// between batches.
type Output struct {
	Events    []Event
	Trades    []twinex.Trade
	Transfers []twinex.Transfer
	// NoEvents leaves Events empty: a replay, whose events no one hears,
	// does not copy an order into each.
	NoEvents bool
}

// Reset empties the output, keeping its storage (and NoEvents).
func (o *Output) Reset() {
	o.Events, o.Trades, o.Transfers = o.Events[:0], o.Trades[:0], o.Transfers[:0]
}
