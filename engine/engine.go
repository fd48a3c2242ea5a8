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
package engine

import (
	"slices"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/ledger"
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
}

// Reset empties the output, keeping its storage.
func (o *Output) Reset() {
	o.Events, o.Trades, o.Transfers = o.Events[:0], o.Trades[:0], o.Transfers[:0]
}

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
		x.dirty = append(x.dirty, o)
	}
}

func (x *Exchange) emit(k EventKind, o *order, f Fill) {
	x.out.Events = append(x.out.Events, Event{Kind: k, Order: o.Order, Fill: f})
}

// buyHold is what a buy of amount at price reserves at fee rate bps.
func buyHold(m *twinex.Market, price, amount, bps int64) int64 {
	if amount == 0 {
		return 0
	}
	n := m.Notional(price, amount)
	return n + ledger.FeeCeil(n, bps)
}

func maxBps(o *order) int64 { return max(o.MakerBps, o.TakerBps) }

// holdFor returns what order o reserves for its remainder, in the ledger
// units of the currency it spends.
func (x *Exchange) holdFor(b *book, o *order) int64 {
	if o.Side == twinex.Buy {
		return buyHold(b.m, o.Price, o.Remaining(), maxBps(o))
	}
	return b.m.BaseUnits(o.Remaining())
}

func (x *Exchange) validate(c *Command) (*book, error) {
	if c.Market < 0 || c.Market >= len(x.books) {
		return nil, twinex.Errorf(twinex.InvalidSymbol, "Supplied value is not a valid symbol")
	}
	b := x.books[c.Market]
	m := b.m
	sym := m.Symbol
	if c.AccountID <= 0 {
		return nil, twinex.Errorf(twinex.InvalidAccountName, "Invalid account")
	}
	if err := b.status.CheckOrder(sym, c.Option); err != nil {
		return nil, err
	}
	if c.Side != twinex.Buy && c.Side != twinex.Sell {
		return nil, twinex.Errorf(twinex.InvalidSide, "Invalid side")
	}
	if c.Type != twinex.Limit && c.Type != twinex.StopLimit {
		return nil, twinex.Errorf(twinex.InvalidOrderType, "Invalid order type")
	}
	if c.Option > twinex.FillOrKill {
		return nil, twinex.Errorf(twinex.UnsupportedOption, "Unsupported option")
	}
	if len(c.ClientOrderID) > 100 {
		return nil, twinex.Errorf(twinex.ClientOrderIdTooLong, "client_order_id must be under 100 characters")
	}
	if c.Price <= 0 || c.Price%m.PriceTick != 0 {
		return nil, twinex.Errorf(twinex.InvalidPrice, "Invalid price for symbol %s", sym)
	}
	if c.Amount <= 0 || c.Amount%m.AmountStep != 0 || c.Amount < m.MinAmount {
		return nil, twinex.Errorf(twinex.InvalidQuantity, "Invalid quantity for symbol %s", sym)
	}
	if !m.CheckNotional(c.Price, c.Amount) {
		return nil, twinex.Errorf(twinex.InvalidQuantity, "Order value is too large for symbol %s", sym)
	}
	if c.Type == twinex.StopLimit {
		if c.Option != twinex.NoOption {
			return nil, twinex.Errorf(twinex.UnsupportedOption, "Stop-limit orders take no execution options")
		}
		switch {
		case c.StopPrice <= 0 || c.StopPrice%m.PriceTick != 0:
			return nil, twinex.Errorf(twinex.InvalidStopPrice, "Invalid stop price for symbol %s", sym)
		case c.Side == twinex.Buy && c.StopPrice >= c.Price:
			return nil, twinex.Errorf(twinex.InvalidStopPriceBuy, "The stop price of a buy stop-limit order must be less than its limit price")
		case c.Side == twinex.Sell && c.StopPrice <= c.Price:
			return nil, twinex.Errorf(twinex.InvalidStopPriceSell, "The stop price of a sell stop-limit order must be greater than its limit price")
		case absDiff(c.Price, c.StopPrice) > c.Price/2: // 2*d > p without overflow
			return nil, twinex.Errorf(twinex.InvalidStopPriceRatio, "The stop price must be within 50%% of the limit price")
		}
	} else if c.StopPrice != 0 {
		return nil, twinex.Errorf(twinex.InvalidStopPrice, "stop_price is only for stop-limit orders")
	}
	return b, nil
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

func (x *Exchange) place(c *Command) {
	b, err := x.validate(c)
	if err != nil {
		x.res.Err = err
		return
	}
	b.touched = true
	a := x.account(c.AccountID)
	o := x.newOrder()
	o.Order = twinex.Order{
		ClientOrderID: c.ClientOrderID, AccountID: c.AccountID, Session: c.Session,
		Market: b.m.Symbol, Side: c.Side, Type: c.Type, Option: c.Option,
		Price: c.Price, StopPrice: c.StopPrice, Amount: c.Amount,
		MakerBps: a.l.Fees.MakerBps, TakerBps: a.l.Fees.TakerBps,
		Created: x.now,
	}
	o.bk = b
	hold := x.holdFor(b, o)
	if err := x.ledger.Hold(a.l, x.heldCur(o), hold); err != nil {
		*o = order{}
		x.pool = append(x.pool, o)
		x.res.Err = err
		return
	}
	x.counters.OrderID++
	o.ID = x.counters.OrderID
	o.Held = hold
	o.acct, o.bk = a, b
	x.orders[o.ID] = o
	x.linkAccount(a, o)
	x.markDirty(o)
	if c.Type == twinex.StopLimit {
		o.Status = twinex.StatusPending
		x.emit(EventAccepted, o, Fill{})
		// A stop whose trigger the last price has already reached enters
		// the book at once.
		if (c.Side == twinex.Buy && b.last > 0 && b.last >= c.StopPrice) ||
			(c.Side == twinex.Sell && b.last > 0 && b.last <= c.StopPrice) {
			x.trigger(b, o)
		} else if c.Side == twinex.Buy {
			b.buyStops.add(o)
		} else {
			b.sellStops.add(o)
		}
	} else {
		o.Status = twinex.StatusLive // provisional until booked or closed
		x.emit(EventAccepted, o, Fill{})
		x.execute(b, o)
	}
	x.runStops(b)
	x.res.Order = o.Order
}

// trigger turns a pending stop order into a limit order and executes it.
func (x *Exchange) trigger(b *book, o *order) {
	o.Status = twinex.StatusLive
	x.markDirty(o)
	x.emit(EventTriggered, o, Fill{})
	x.execute(b, o)
}

// runStops triggers stops, in order, until the last price reaches no more.
func (x *Exchange) runStops(b *book) {
	for {
		if o := b.buyStops.next(b.last); o != nil {
			x.trigger(b, o)
			continue
		}
		if o := b.sellStops.next(b.last); o != nil {
			x.trigger(b, o)
			continue
		}
		return
	}
}

// execute matches an incoming order and then books or closes it.
func (x *Exchange) execute(b *book, o *order) {
	opp := b.opposite(o.Side)
	switch o.Option {
	case twinex.MakerOrCancel:
		if best := opp.best(); best != nil && crosses(o.Side, o.Price, best.price) {
			x.cancelOrder(b, o, twinex.ReasonMakerOrCancelWouldTake)
			return
		}
	case twinex.FillOrKill:
		if !x.canFill(opp, o) {
			x.cancelOrder(b, o, twinex.ReasonFillOrKillWouldNotFill)
			return
		}
	}
	selfCross := x.match(b, opp, o)
	switch {
	case o.Remaining() == 0:
		x.closeOrder(o, twinex.StatusFilled, "")
	case selfCross:
		x.cancelOrder(b, o, twinex.ReasonSelfCrossPrevented)
	case o.Option == twinex.ImmediateOrCancel || o.Option == twinex.FillOrKill:
		x.cancelOrder(b, o, twinex.ReasonImmediateOrCancelWouldPost)
	default:
		x.counters.Seq++
		o.Seq = x.counters.Seq
		o.Status = twinex.StatusLive
		b.own(o.Side).levelFor(o.Price).push(o)
		x.markDirty(o)
		x.emit(EventBooked, o, Fill{})
	}
}

// canFill reports whether o could fill completely right now, counting only
// the liquidity ahead of its account's own first resting order.
func (x *Exchange) canFill(opp *side, o *order) bool {
	need := o.Remaining()
	for i := len(opp.levels) - 1; i >= 0; i-- {
		l := opp.levels[i]
		if !crosses(o.Side, o.Price, l.price) {
			return false
		}
		for m := l.head; m != nil; m = m.next {
			if m.AccountID == o.AccountID {
				return false
			}
			need -= m.Remaining()
			if need <= 0 {
				return true
			}
		}
	}
	return false
}

// match trades o against the opposite side while prices cross. It reports
// whether it stopped at one of the account's own resting orders.
func (x *Exchange) match(b *book, opp *side, o *order) (selfCross bool) {
	for o.Remaining() > 0 {
		l := opp.best()
		if l == nil || !crosses(o.Side, o.Price, l.price) {
			return false
		}
		for m := l.head; m != nil && o.Remaining() > 0; {
			if m.AccountID == o.AccountID {
				return true
			}
			next := m.next
			x.fill(b, o, m, l, min(o.Remaining(), m.Remaining()))
			m = next
		}
		if l.head == nil {
			opp.remove(l)
		}
	}
	return false
}

// fill settles one trade of q at the maker's price.
func (x *Exchange) fill(b *book, t, m *order, l *level, q int64) {
	mk := b.m
	price := l.price
	notional := mk.Notional(price, q)
	base := mk.BaseUnits(q)
	takerFee := ledger.Fee(notional, t.TakerBps)
	makerFee := ledger.Fee(notional, m.MakerBps)
	qc, bc := x.quoteCur[b.index], x.baseCur[b.index]

	buyer, seller := t, m
	buyerFee, sellerFee := takerFee, makerFee
	if t.Side == twinex.Sell {
		buyer, seller = m, t
		buyerFee, sellerFee = makerFee, takerFee
	}
	// Buyer: pays notional and fee from its hold, gets the base, and the
	// hold shrinks to what the remainder needs.
	cost := notional + buyerFee
	newHeld := buyHold(mk, buyer.Price, buyer.Remaining()-q, maxBps(buyer))
	x.ledger.SpendHeld(buyer.acct.l, qc, cost)
	x.ledger.Release(buyer.acct.l, qc, buyer.Held-cost-newHeld)
	buyer.Held = newHeld
	x.ledger.Credit(buyer.acct.l, bc, base)
	// Seller: gives the base from its hold and gets the notional less fee.
	x.ledger.SpendHeld(seller.acct.l, bc, base)
	seller.Held -= base
	x.ledger.Credit(seller.acct.l, qc, notional-sellerFee)
	x.ledger.Credit(x.account(twinex.FeeAccountID).l, qc, takerFee+makerFee)

	x.counters.TradeID++
	tid := x.counters.TradeID
	for _, o := range [2]*order{t, m} {
		o.Filled += q
		o.FilledNotional += notional
		x.markDirty(o)
	}
	t.Fees += takerFee
	m.Fees += makerFee
	l.total -= q
	b.last = price

	x.out.Trades = append(x.out.Trades, twinex.Trade{
		ID: tid, Market: mk.Symbol, Price: price, Amount: q, Notional: notional,
		TakerSide: t.Side, MakerOrderID: m.ID, TakerOrderID: t.ID,
		MakerAccount: m.AccountID, TakerAccount: t.AccountID,
		MakerFee: makerFee, TakerFee: takerFee, Time: x.now,
	})
	x.emit(EventFill, t, Fill{TradeID: tid, Price: price, Amount: q, Fee: takerFee})
	x.emit(EventFill, m, Fill{TradeID: tid, Price: price, Amount: q, Fee: makerFee, Maker: true})
	if m.Remaining() == 0 {
		l.unlink(m)
		x.closeOrder(m, twinex.StatusFilled, "")
	}
}

// closeOrder ends an order that is off the book: it releases what it still
// holds and unlinks it from its account.
func (x *Exchange) closeOrder(o *order, st twinex.OrderStatus, reason string) {
	if o.Held != 0 {
		x.ledger.Release(o.acct.l, x.heldCur(o), o.Held)
		o.Held = 0
	}
	o.Status = st
	o.CancelReason = reason
	x.unlinkAccount(o)
	delete(x.orders, o.ID)
	o.closed = true
	x.closed = append(x.closed, o)
	x.markDirty(o)
	if st == twinex.StatusCancelled {
		x.emit(EventCancelled, o, Fill{})
	}
	x.emit(EventClosed, o, Fill{})
}

// cancelOrder takes o off the book or out of the stops and closes it.
func (x *Exchange) cancelOrder(b *book, o *order, reason string) {
	b.touched = true
	if l := o.lvl; l != nil {
		l.total -= o.Remaining()
		l.unlink(o)
		if l.head == nil {
			b.own(o.Side).remove(l)
		}
	} else if o.Status == twinex.StatusPending {
		if o.Side == twinex.Buy {
			b.buyStops.remove(o)
		} else {
			b.sellStops.remove(o)
		}
	}
	x.closeOrder(o, twinex.StatusCancelled, reason)
}

func (x *Exchange) linkAccount(a *account, o *order) {
	o.aprev, o.anext = a.tail, nil
	if a.tail != nil {
		a.tail.anext = o
	} else {
		a.head = o
	}
	a.tail = o
}

func (x *Exchange) unlinkAccount(o *order) {
	a := o.acct
	if o.aprev != nil {
		o.aprev.anext = o.anext
	} else {
		a.head = o.anext
	}
	if o.anext != nil {
		o.anext.aprev = o.aprev
	} else {
		a.tail = o.aprev
	}
	o.aprev, o.anext = nil, nil
}

// heldCur returns the ledger index of the currency o reserves.
func (x *Exchange) heldCur(o *order) int {
	if o.Side == twinex.Sell {
		return x.baseCur[o.bk.index]
	}
	return x.quoteCur[o.bk.index]
}

func (x *Exchange) cancelOne(c *Command) {
	o := x.orders[c.OrderID]
	if o == nil || o.AccountID != c.AccountID {
		x.res.Err = twinex.Errorf(twinex.OrderNotFound, "Order %d not found", c.OrderID)
		return
	}
	reason := c.Reason
	if reason == "" {
		reason = twinex.ReasonRequested
	}
	x.cancelOrder(o.bk, o, reason)
	x.res.Order = o.Order
}

func (x *Exchange) cancelMany(c *Command) {
	a := x.accounts[c.AccountID]
	if a == nil {
		return
	}
	reason := c.Reason
	if reason == "" {
		reason = twinex.ReasonRequested
	}
	for o := a.head; o != nil; {
		next := o.anext
		if c.Kind == CancelAll || o.Session == c.Session {
			x.cancelOrder(o.bk, o, reason)
			x.res.Cancelled = append(x.res.Cancelled, o.ID)
		}
		o = next
	}
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
