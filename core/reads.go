package core

import (
	"context"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// The command vocabulary and the reads of the sequencer's state, for the
// adapters (the Gemini API) that drive the core but must not reach into
// the engine: everything they send and read passes through the core, so
// the engine's methods stay the core's own business (imports_test.go bans
// api → engine).
//
// The types are aliases, not copies: a Command built by the API is the
// engine's Command, with no conversion on the request path, and the engine
// keeps its one definition of each.

// Command is one input of the sequencer (engine.Command).
type Command = engine.Command

// Result is what the caller of one command learns (engine.Result).
type Result = engine.Result

// CommandKind says what a command does (engine.CommandKind).
type CommandKind = engine.CommandKind

// The command kinds (engine.Place ...).
const (
	Place           = engine.Place
	Cancel          = engine.Cancel
	CancelAll       = engine.CancelAll
	CancelSession   = engine.CancelSession
	DepositFunds    = engine.DepositFunds
	WithdrawFunds   = engine.WithdrawFunds
	TransferFunds   = engine.TransferFunds
	SetFees         = engine.SetFees
	SetMarketStatus = engine.SetMarketStatus
)

// Level is one price level of a book snapshot (engine.Level).
type Level = engine.Level

// Event is a change of one order, as the order feeds carry it
// (engine.Event).
type Event = engine.Event

// EventKind names an order event (engine.EventKind).
type EventKind = engine.EventKind

// The order event kinds (engine.EventAccepted ...).
const (
	EventAccepted  = engine.EventAccepted
	EventBooked    = engine.EventBooked
	EventFill      = engine.EventFill
	EventCancelled = engine.EventCancelled
	EventClosed    = engine.EventClosed
	EventTriggered = engine.EventTriggered
)

// Fill describes one order's side of a trade (engine.Fill).
type Fill = engine.Fill

// CheckError lists violated invariants (engine.CheckError); Verify's
// Err is one.
type CheckError = engine.CheckError

// Balances returns an account's balances, read on the sequencer in order
// with commands (read-your-writes), like Inspect.
func (c *Core) Balances(ctx context.Context, accountID int64) ([]twinex.Balance, error) {
	var out []twinex.Balance
	err := c.Inspect(ctx, func(x *engine.Exchange) { out = x.Ledger().Balances(accountID) })
	return out, err
}

// AccountOrders returns an account's open orders, oldest first, read like
// Balances.
func (c *Core) AccountOrders(ctx context.Context, accountID int64) ([]twinex.Order, error) {
	var out []twinex.Order
	err := c.Inspect(ctx, func(x *engine.Exchange) { out = x.OpenOrders(accountID) })
	return out, err
}

// FeeRates returns the fee rates an account's new orders pay:
// twinex.DefaultFeeRates for an account the ledger does not know yet.
func (c *Core) FeeRates(ctx context.Context, accountID int64) (twinex.FeeRates, error) {
	fees := twinex.DefaultFeeRates
	err := c.Inspect(ctx, func(x *engine.Exchange) {
		if a := x.Ledger().Lookup(accountID); a != nil {
			fees = a.Fees
		}
	})
	return fees, err
}

// Verification is the state of the exchange's invariants at one instant.
type Verification struct {
	Err        error // nil, or a *CheckError listing the violations
	OpenOrders int
	Accounts   int
	Counters   twinex.Counters
	// Supply is each currency's total in ledger units, indexed like
	// Markets().Currencies.
	Supply []twinex.Int128
}

// Verify runs the ledger and book check on the sequencer and returns its
// outcome with the counts an operator reads beside it. The error is the
// core's (ErrClosed), not the check's.
func (c *Core) Verify(ctx context.Context) (Verification, error) {
	var v Verification
	err := c.Inspect(ctx, func(x *engine.Exchange) {
		v.Err = x.Check()
		v.OpenOrders, v.Accounts = x.OpenOrderCount(), x.Ledger().Len()
		v.Counters = x.Counters()
		v.Supply = make([]twinex.Int128, len(c.cfg.Markets.Currencies))
		for i := range v.Supply {
			v.Supply[i] = x.Ledger().Supply(i)
		}
	})
	return v, err
}
