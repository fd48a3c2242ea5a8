package engine

// Placing an order: validation, holds, stop orders, and matching against the
// book (execute, match, fill: the hot path).

import (
	"github.com/twinex/twinex"
	"github.com/twinex/twinex/ledger"
)

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
		return nil, twinex.Errorf(twinex.InvalidQuantity, "Order value is too large for symbol %s: %s", sym, m.OrderLimit())
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
		if !x.canFill(b, opp, o) {
			x.cancelOrder(b, o, twinex.ReasonFillOrKillWouldNotFill)
			return
		}
	}
	stop := x.match(b, opp, o)
	switch {
	case o.Remaining() == 0:
		x.closeOrder(o, twinex.StatusFilled, "")
	case stop != "":
		x.cancelOrder(b, o, stop)
	case o.Option == twinex.ImmediateOrCancel || o.Option == twinex.FillOrKill:
		x.cancelOrder(b, o, twinex.ReasonImmediateOrCancelWouldPost)
	default:
		l := b.own(o.Side).levelFor(o.Price)
		if l.total > 1<<63-1-o.Remaining() {
			// The level is far from empty here, so it stays in the book.
			x.cancelOrder(b, o, twinex.ReasonPriceLevelFull)
			return
		}
		x.counters.Seq++
		o.Seq = x.counters.Seq
		o.Status = twinex.StatusLive
		l.push(o)
		x.markDirty(o)
		x.emit(EventBooked, o, Fill{})
	}
}

// canFill reports whether o could fill completely right now, counting only
// the liquidity ahead of its account's own first resting order, and, for a
// sell, only fills within its value limit (see valueFits).
func (x *Exchange) canFill(b *book, opp *side, o *order) bool {
	need := o.Remaining()
	filled := o.FilledNotional
	for i := len(opp.levels) - 1; i >= 0; i-- {
		l := opp.levels[i]
		if !crosses(o.Side, o.Price, l.price) {
			return false
		}
		for m := l.head; m != nil; m = m.next {
			if m.AccountID == o.AccountID {
				return false
			}
			if o.Side == twinex.Sell {
				n := b.m.Notional(l.price, min(need, m.Remaining()))
				if !valueFits(filled, n) {
					return false
				}
				filled += n
			}
			need -= m.Remaining()
			if need <= 0 {
				return true
			}
		}
	}
	return false
}

// match trades o against the opposite side while prices cross. When it
// stops before o is filled for a reason other than the prices, it returns
// the cancel reason: SelfCrossPrevented at one of the account's own resting
// orders, OrderValueLimit when a sell's next fill would pass its value limit.
func (x *Exchange) match(b *book, opp *side, o *order) (stop string) {
	for o.Remaining() > 0 {
		l := opp.best()
		if l == nil || !crosses(o.Side, o.Price, l.price) {
			return ""
		}
		for m := l.head; m != nil && o.Remaining() > 0; {
			if m.AccountID == o.AccountID {
				return twinex.ReasonSelfCrossPrevented
			}
			q := min(o.Remaining(), m.Remaining())
			if o.Side == twinex.Sell && !valueFits(o.FilledNotional, b.m.Notional(l.price, q)) {
				return twinex.ReasonOrderValueLimit
			}
			next := m.next
			x.fill(b, o, m, l, q)
			m = next
		}
		if l.head == nil {
			opp.remove(l)
		}
	}
	return ""
}

// valueFits reports whether an order that has filled for filled (quote
// ledger units) may fill for n more within twinex.MaxOrderValue. Only a
// sell needs the check: it trades at bid prices at or above its own, so
// its filled value is bounded by the bids it meets, not by its own price
// and amount; a buy fills at or below its price, within what it reserved.
// Both operands are at most MaxOrderValue, so the test cannot overflow.
func valueFits(filled, n int64) bool { return n <= twinex.MaxOrderValue-filled }

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
