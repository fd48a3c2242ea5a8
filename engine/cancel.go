package engine

// How an order ends (closed when filled or cancelled), each open order's link
// to its account, and the cancel commands.

import (
	"github.com/twinex/twinex"
)

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
