// Package engine is Twinex's exchange state machine: price-time priority
// order books, stop orders, self-trade prevention, and the ledger postings of
// every command. It is pure and deterministic: commands in (each carrying the
// time the sequencer stamped on it), events out; no clock, no I/O, no
// goroutines, no map iteration where order matters. Replaying the same
// commands on the same state gives the same events, which recovery, the
// reference-book tests and the seeded sandbox rely on.
//
// Self-trade prevention: an incoming order never trades with a resting order
// of its own account. When the next resting order it would trade with is its
// own, the incoming order's remainder is cancelled with reason
// SelfCrossPrevented (its fills so far stand) and resting orders are left
// alone ("cancel newest"). A fill-or-kill order counts only the liquidity
// ahead of the account's own first resting order; a maker-or-cancel order
// that would cross anything, its own orders included, is cancelled with
// MakerOrCancelWouldTake.
//
// Holds: a buy reserves price*amount plus the largest fee it could pay at
// the fee rates it was placed with (rounded up); a sell reserves the amount.
// Fees are rounded down to the ledger unit per fill, so the reserve always
// covers them, and after every fill the order's hold is recomputed for its
// remainder; the difference is released. Stop orders reserve like the limit
// orders they become.
//
// Sizes: one order's amounts, holds, fills and fees are int64 (its value is
// at most twinex.MaxOrderValue, a sell's filled value included: past it, the
// sell's remainder is cancelled with OrderValueLimit); balances and supplies
// are twinex.Int128 in the ledger. A price level's total is an int64 of
// amount units: an order whose remainder would take it past that is
// cancelled with PriceLevelFull instead of resting.
package engine

import (
	"slices"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/ledger"
)

// account is the engine's view of an account: its ledger entry and its open
// orders, oldest first.
type account struct {
	l          *ledger.Account
	head, tail *order
}

// Exchange is the whole exchange state: books, stops, ledger and counters.
// It is not safe for concurrent use; one sequencer goroutine owns it.
type Exchange struct {
	markets  *twinex.Markets
	books    []*book
	ledger   *ledger.Ledger
	accounts map[int64]*account
	orders   map[int64]*order // open orders
	counters twinex.Counters
	baseCur  []int // per market: ledger index of base and quote
	quoteCur []int
	dirty    []*order
	closed   []*order
	pool     []*order
	now      int64
	out      *Output
	res      *Result
	result   Result // the current command's result; a field, so it does not escape
}

// New returns an empty exchange for the given markets.
func New(ms *twinex.Markets) *Exchange {
	x := &Exchange{
		markets:  ms,
		ledger:   ledger.New(ms.Currencies),
		accounts: make(map[int64]*account),
		orders:   make(map[int64]*order),
	}
	for i, m := range ms.List {
		x.books = append(x.books, newBook(m, i))
		x.baseCur = append(x.baseCur, x.ledger.CurrencyIndex(m.Base))
		x.quoteCur = append(x.quoteCur, x.ledger.CurrencyIndex(m.Quote))
	}
	return x
}

// Markets returns the exchange's markets.
func (x *Exchange) Markets() *twinex.Markets { return x.markets }

// Ledger returns the ledger, for reads by the sequencer's goroutine.
func (x *Exchange) Ledger() *ledger.Ledger { return x.ledger }

// Counters returns the id counters.
func (x *Exchange) Counters() twinex.Counters { return x.counters }

// LastPrice returns the last trade price of market i (0 if none).
func (x *Exchange) LastPrice(i int) int64 { return x.books[i].last }

// Status returns market i's status.
func (x *Exchange) Status(i int) twinex.MarketStatus { return x.books[i].status }

func (x *Exchange) account(id int64) *account {
	a := x.accounts[id]
	if a == nil {
		a = &account{l: x.ledger.Account(id)}
		x.accounts[id] = a
	}
	return a
}

// Apply executes one command, appending its events, trades and transfers to
// out, and returns its result.
func (x *Exchange) Apply(c *Command, out *Output) Result {
	x.result = Result{}
	x.now, x.out, x.res = c.Time, out, &x.result
	x.counters.Time = c.Time
	r := &x.result
	switch c.Kind {
	case Place:
		x.place(c)
	case Cancel:
		x.cancelOne(c)
	case CancelAll, CancelSession:
		x.cancelMany(c)
	case DepositFunds, WithdrawFunds, TransferFunds:
		x.funds(c)
	case SetFees:
		if c.AccountID <= 0 {
			r.Err = twinex.Errorf(twinex.InvalidAccountName, "Invalid account")
			break
		}
		r.Err = x.ledger.SetFees(x.account(c.AccountID).l, c.Fees)
	case SetMarketStatus:
		if c.Market < 0 || c.Market >= len(x.books) {
			r.Err = twinex.Errorf(twinex.InvalidSymbol, "Supplied value is not a valid symbol")
			break
		}
		if !c.Status.Valid() {
			r.Err = twinex.Errorf(twinex.InvalidJson, "Unknown market status %q: use open, closed, cancel_only, post_only or limit_only", c.Status)
			break
		}
		b := x.books[c.Market]
		b.status, b.statusDirty, b.touched = c.Status, true, true
	default:
		r.Err = twinex.Errorf(twinex.System, "unknown command")
	}
	if r.Err != nil {
		// A refused command leaves no trace, not even an empty account.
		x.dropIfEmpty(c.AccountID)
		x.dropIfEmpty(c.ToAccount)
	}
	x.out, x.res = nil, nil
	return *r
}

// dropIfEmpty forgets an account that holds nothing, has no open orders and
// no unsaved changes: one a refused command created.
func (x *Exchange) dropIfEmpty(id int64) {
	if a := x.accounts[id]; a != nil && a.head == nil && x.ledger.DropIfEmpty(id) {
		delete(x.accounts, id)
	} else if a == nil {
		x.ledger.DropIfEmpty(id)
	}
}

func (x *Exchange) newOrder() *order {
	if n := len(x.pool); n > 0 {
		o := x.pool[n-1]
		x.pool = x.pool[:n-1]
		return o
	}
	return new(order)
}

func (x *Exchange) markDirty(o *order) {
	o.Updated = x.now
	if !o.dirty {
		o.dirty = true
		o.at = int32(len(x.dirty))
		x.dirty = append(x.dirty, o)
	}
}

// TakeClosed passes the final state of every order closed since the last
// TakeChanges or TakeClosed to take, and frees those orders for reuse:
// TakeChanges no longer reports them. A long replay takes them record by
// record, so that its orders are reused rather than each allocated and
// all held until the end.
func (x *Exchange) TakeClosed(take func(*twinex.Order)) {
	for _, o := range x.closed {
		take(&o.Order)
		if o.dirty {
			last := x.dirty[len(x.dirty)-1]
			x.dirty[o.at], last.at = last, o.at
			x.dirty[len(x.dirty)-1] = nil
			x.dirty = x.dirty[:len(x.dirty)-1]
		}
		*o = order{}
		x.pool = append(x.pool, o)
	}
	clear(x.closed)
	x.closed = x.closed[:0]
}

func (x *Exchange) emit(k EventKind, o *order, f Fill) {
	if x.out.NoEvents {
		return
	}
	x.out.Events = append(x.out.Events, Event{Kind: k, Order: o.Order, Fill: f})
}

func (x *Exchange) funds(c *Command) {
	cur := x.ledger.CurrencyIndex(c.Currency)
	if cur < 0 {
		x.res.Err = twinex.Errorf(twinex.InvalidQuantity, "Unknown currency %q", c.Currency)
		return
	}
	if c.AccountID <= 0 || (c.Kind == TransferFunds && c.ToAccount <= 0) {
		x.res.Err = twinex.Errorf(twinex.InvalidAccountName, "Invalid account")
		return
	}
	a := x.account(c.AccountID).l
	t := twinex.Transfer{
		AccountID: c.AccountID, Currency: c.Currency, Amount: c.Funds, Fee: c.Fee,
		Destination: c.Destination, TxHash: c.TxHash, ClientID: c.ClientID,
		Method: c.Method, Time: x.now,
	}
	var err error
	switch c.Kind {
	case DepositFunds:
		t.Kind, t.Fee = twinex.Deposit, 0
		err = x.ledger.Deposit(a, cur, c.Funds)
	case WithdrawFunds:
		t.Kind = twinex.Withdrawal
		err = x.ledger.Withdraw(a, cur, c.Funds, c.Fee)
	case TransferFunds:
		t.Kind, t.Fee, t.Counterparty = twinex.TransferOut, 0, c.ToAccount
		err = x.ledger.Transfer(a, x.account(c.ToAccount).l, cur, c.Funds)
	}
	if err != nil {
		x.res.Err = err
		return
	}
	x.counters.TransferID++
	t.ID = x.counters.TransferID
	x.out.Transfers = append(x.out.Transfers, t)
	x.res.Transfers = append(x.res.Transfers, t)
	if c.Kind == TransferFunds {
		in := t
		x.counters.TransferID++
		in.ID, in.Kind, in.AccountID, in.Counterparty = x.counters.TransferID, twinex.TransferIn, c.ToAccount, c.AccountID
		x.out.Transfers = append(x.out.Transfers, in)
		x.res.Transfers = append(x.res.Transfers, in)
	}
}

// TakeTouched appends the indexes of the markets whose books, stops or last
// price changed since the last call to dst, and forgets them.
func (x *Exchange) TakeTouched(dst []int) []int {
	for i, b := range x.books {
		if b.touched {
			b.touched = false
			dst = append(dst, i)
		}
	}
	return dst
}

// TakeChanges appends everything changed since the last call (orders,
// balances, supplies, fee rates, counters) to b, then frees closed orders.
func (x *Exchange) TakeChanges(b *twinex.Batch) {
	b.Orders = slices.Grow(b.Orders, len(x.dirty))
	for _, o := range x.dirty {
		o.dirty = false
		b.Orders = append(b.Orders, o.Order)
	}
	clear(x.dirty)
	x.dirty = x.dirty[:0]
	for _, o := range x.closed {
		*o = order{}
		x.pool = append(x.pool, o)
	}
	clear(x.closed)
	x.closed = x.closed[:0]
	x.ledger.TakeChanges(b)
	b.Counters = x.counters
	for _, bk := range x.books {
		if bk.statusDirty {
			bk.statusDirty = false
			if b.Meta == nil {
				b.Meta = map[string]string{}
			}
			b.Meta[MetaMarketStatus+bk.m.Symbol] = string(bk.status)
		}
	}
}
