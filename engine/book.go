package engine

import "github.com/twinex/twinex"

// order is the engine's node for an open (or just closed) order: the domain
// state plus the links of its price level's FIFO and of its account's list of
// open orders.
type order struct {
	twinex.Order
	prev, next   *order // FIFO within the price level
	lvl          *level
	aprev, anext *order // the account's open orders, oldest first
	acct         *account
	bk           *book
	dirty        bool  // changed since the last TakeChanges
	closed       bool  // filled or cancelled; freed at the next TakeChanges or TakeClosed
	at           int32 // its place in Exchange.dirty, while dirty (an int32 keeps order at 256 bytes)
}

// level is one price level: a FIFO of resting orders and their total.
type level struct {
	price      int64
	total      int64 // sum of the orders' remaining amounts
	count      int
	head, tail *order
}

func (l *level) push(o *order) {
	o.lvl = l
	o.prev, o.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = o
	} else {
		l.head = o
	}
	l.tail = o
	l.total += o.Remaining()
	l.count++
}

// unlink removes o from the level; the caller adjusts total beforehand for
// any amount o had left.
func (l *level) unlink(o *order) {
	if o.prev != nil {
		o.prev.next = o.next
	} else {
		l.head = o.next
	}
	if o.next != nil {
		o.next.prev = o.prev
	} else {
		l.tail = o.prev
	}
	o.prev, o.next, o.lvl = nil, nil, nil
	l.count--
}

// side is one side of a book. Levels are kept sorted so that the best price
// is last: bids ascending, asks descending. Finding a level is a binary
// search; the best level is at hand; inserting or removing a level is a
// memmove of pointers, cheap at the hundreds of levels books have.
type side struct {
	bid    bool
	levels []*level
	pool   *[]*level
}

// key maps a price to the sort key (ascending toward the best price).
func (s *side) key(p int64) int64 {
	if s.bid {
		return p
	}
	return -p
}

// search returns the index of the first level whose key is >= key(p).
func (s *side) search(p int64) int {
	k := s.key(p)
	lo, hi := 0, len(s.levels)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.key(s.levels[m].price) < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// best returns the best level, or nil.
func (s *side) best() *level {
	if n := len(s.levels); n > 0 {
		return s.levels[n-1]
	}
	return nil
}

// levelFor returns the level at price p, creating it.
func (s *side) levelFor(p int64) *level {
	i := s.search(p)
	if i < len(s.levels) && s.levels[i].price == p {
		return s.levels[i]
	}
	var l *level
	if n := len(*s.pool); n > 0 {
		l = (*s.pool)[n-1]
		*s.pool = (*s.pool)[:n-1]
	} else {
		l = new(level)
	}
	l.price = p
	s.levels = append(s.levels, nil)
	copy(s.levels[i+1:], s.levels[i:])
	s.levels[i] = l
	return l
}

// remove drops the empty level l from the side.
func (s *side) remove(l *level) {
	n := len(s.levels)
	if n > 0 && s.levels[n-1] == l {
		s.levels[n-1] = nil
		s.levels = s.levels[:n-1]
	} else {
		i := s.search(l.price)
		copy(s.levels[i:], s.levels[i+1:])
		s.levels[n-1] = nil
		s.levels = s.levels[:n-1]
	}
	*l = level{}
	*s.pool = append(*s.pool, l)
}

// stops holds pending stop orders of one side, sorted so that the next to
// trigger is last: buy stops trigger when the last price rises to their stop
// (lowest stop first), sell stops when it falls to it (highest first); among
// equal stops the older order first.
type stops struct {
	buy    bool
	orders []*order
}

// before reports whether a sorts before b (b triggers sooner).
func (s *stops) before(a, b *order) bool {
	if a.StopPrice != b.StopPrice {
		if s.buy {
			return a.StopPrice > b.StopPrice
		}
		return a.StopPrice < b.StopPrice
	}
	return a.ID > b.ID
}

func (s *stops) search(o *order) int {
	lo, hi := 0, len(s.orders)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.before(s.orders[m], o) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (s *stops) add(o *order) {
	i := s.search(o)
	s.orders = append(s.orders, nil)
	copy(s.orders[i+1:], s.orders[i:])
	s.orders[i] = o
}

func (s *stops) remove(o *order) {
	i := s.search(o)
	if i < len(s.orders) && s.orders[i] == o {
		copy(s.orders[i:], s.orders[i+1:])
		s.orders[len(s.orders)-1] = nil
		s.orders = s.orders[:len(s.orders)-1]
	}
}

// next returns the stop that triggers at last price p, or nil.
func (s *stops) next(p int64) *order {
	n := len(s.orders)
	if n == 0 || p <= 0 {
		return nil
	}
	o := s.orders[n-1]
	if (s.buy && p >= o.StopPrice) || (!s.buy && p <= o.StopPrice) {
		s.orders[n-1] = nil
		s.orders = s.orders[:n-1]
		return o
	}
	return nil
}

// book is one market's order book, its pending stops and its last price.
type book struct {
	m          *twinex.Market
	index      int
	bids, asks side
	buyStops   stops
	sellStops  stops
	last       int64 // last trade price, 0 before the first trade
	touched    bool  // changed since the last TakeTouched
	// status is which orders the market accepts: the configured one
	// until SetMarketStatus changes it; statusDirty says the change is
	// not yet in a batch.
	status      twinex.MarketStatus
	statusDirty bool
	levelPool   []*level
}

func newBook(m *twinex.Market, index int) *book {
	b := &book{m: m, index: index, status: m.Status}
	b.bids = side{bid: true, pool: &b.levelPool}
	b.asks = side{bid: false, pool: &b.levelPool}
	b.buyStops.buy = true
	return b
}

// opposite returns the side an order of side sd trades against.
func (b *book) opposite(sd twinex.Side) *side {
	if sd == twinex.Buy {
		return &b.asks
	}
	return &b.bids
}

// own returns the side an order of side sd rests on.
func (b *book) own(sd twinex.Side) *side {
	if sd == twinex.Buy {
		return &b.bids
	}
	return &b.asks
}

// crosses reports whether an order of side sd at limit price would trade
// with a resting order at price p.
func crosses(sd twinex.Side, limit, p int64) bool {
	if sd == twinex.Buy {
		return p <= limit
	}
	return p >= limit
}
