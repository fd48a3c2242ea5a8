package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twinex/twinex"
)

// Restore loads a recovered state into an empty exchange: counters,
// balances, fee rates, and the open orders, which rejoin their price levels in
// their original time priority (State.OpenOrders is in Seq order). last
// gives each market's last trade price (by symbol), which pending stops
// trigger on.
func (x *Exchange) Restore(st *twinex.State, last map[string]int64) error {
	if len(x.orders) != 0 || x.counters != (twinex.Counters{}) {
		return errors.New("restore: exchange is not empty")
	}
	x.counters = st.Counters
	if err := x.ledger.Restore(st); err != nil {
		return err
	}
	for sym, p := range last {
		if i := x.markets.Index(sym); i >= 0 {
			x.books[i].last = p
		}
	}
	for _, b := range x.books {
		if v, ok := st.Meta[MetaMarketStatus+b.m.Symbol]; ok {
			if s := twinex.MarketStatus(v); s.Valid() {
				b.status = s
			}
		}
	}
	nodes := make([]*order, 0, len(st.OpenOrders))
	for i := range st.OpenOrders {
		so := &st.OpenOrders[i]
		bi := x.markets.Index(so.Market)
		if bi < 0 {
			return fmt.Errorf("restore: order %d is in market %q, which is not configured", so.ID, so.Market)
		}
		if !so.Status.Open() {
			return fmt.Errorf("restore: order %d is %s, not open", so.ID, so.Status)
		}
		if x.orders[so.ID] != nil {
			return fmt.Errorf("restore: order %d appears twice", so.ID)
		}
		b := x.books[bi]
		o := x.newOrder()
		o.Order = *so
		o.bk, o.acct = b, x.account(so.AccountID)
		x.orders[o.ID] = o
		nodes = append(nodes, o)
		if o.Status == twinex.StatusLive {
			b.own(o.Side).levelFor(o.Price).push(o)
		} else if o.Side == twinex.Buy {
			b.buyStops.add(o)
		} else {
			b.sellStops.add(o)
		}
	}
	// Accounts list their open orders oldest first, as before the restart.
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	for _, o := range nodes {
		x.linkAccount(o.acct, o)
	}
	return nil
}

// CheckError lists violated invariants.
type CheckError struct {
	Violations []string
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("ledger check: %d violations: %s", len(e.Violations), strings.Join(e.Violations, "; "))
}

// Check verifies the exchange's invariants: per currency the sum of all
// balances equals deposits minus withdrawals; no held or available balance
// is negative; every account's holds equal what its open orders reserve and
// every order reserves exactly what its remainder needs; books are sorted,
// their level totals add up, and no book is crossed; every open order is in
// exactly one place. It returns a *CheckError, or nil.
func (x *Exchange) Check() error {
	var v []string
	add := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }
	reserved := map[int64][]twinex.Int128{}
	seen := 0
	for _, b := range x.books {
		sym := b.m.Symbol
		for _, sd := range []*side{&b.bids, &b.asks} {
			for i, l := range sd.levels {
				if i > 0 && sd.key(sd.levels[i-1].price) >= sd.key(l.price) {
					add("%s: levels out of order at %d", sym, l.price)
				}
				var total int64
				n := 0
				for o := l.head; o != nil; o = o.next {
					n++
					seen++
					total += o.Remaining()
					if o.lvl != l || o.Price != l.price || o.Status != twinex.StatusLive || o.Remaining() <= 0 || x.orders[o.ID] != o || o.bk != b {
						add("%s: order %d misplaced on level %d", sym, o.ID, l.price)
					}
					if (o.Side == twinex.Buy) != sd.bid {
						add("%s: order %d on the wrong side", sym, o.ID)
					}
				}
				if n == 0 || n != l.count || total != l.total {
					add("%s: level %d has count %d total %d, orders give %d and %d", sym, l.price, l.count, l.total, n, total)
				}
			}
		}
		if bb, ba := b.bids.best(), b.asks.best(); bb != nil && ba != nil && bb.price >= ba.price {
			add("%s: book crossed: bid %d >= ask %d", sym, bb.price, ba.price)
		}
		for _, st := range []*stops{&b.buyStops, &b.sellStops} {
			for i, o := range st.orders {
				seen++
				if o.Status != twinex.StatusPending || x.orders[o.ID] != o || o.bk != b || (o.Side == twinex.Buy) != st.buy {
					add("%s: stop order %d misplaced", sym, o.ID)
				}
				if i > 0 && !st.before(st.orders[i-1], o) {
					add("%s: stop orders out of order at %d", sym, o.ID)
				}
			}
		}
	}
	if seen != len(x.orders) {
		add("%d open orders, but %d are in books and stops", len(x.orders), seen)
	}
	for id, o := range x.orders {
		if want := x.holdFor(o.bk, o); o.Held != want {
			add("order %d holds %d, its remainder needs %d", id, o.Held, want)
		}
		r := reserved[o.AccountID]
		if r == nil {
			r = make([]twinex.Int128, len(x.markets.Currencies))
			reserved[o.AccountID] = r
		}
		r[x.heldCur(o)] = r[x.heldCur(o)].Add64(o.Held)
	}
	for id, a := range x.accounts {
		for o := a.head; o != nil; o = o.anext {
			if o.acct != a || o.AccountID != id || x.orders[o.ID] != o {
				add("account %d: order %d misplaced in its list", id, o.ID)
			}
		}
	}
	v = append(v, x.ledger.Check(reserved)...)
	if len(v) == 0 {
		return nil
	}
	sort.Strings(v)
	return &CheckError{Violations: v}
}

// Level is one aggregated price level.
type Level struct {
	Price  int64
	Amount int64
	Orders int
}

// Depth appends market i's price levels, best first, at most limit per side
// (0: all).
func (x *Exchange) Depth(i int, bids, asks []Level, limit int) ([]Level, []Level) {
	b := x.books[i]
	get := func(dst []Level, sd *side) []Level {
		for j := len(sd.levels) - 1; j >= 0; j-- {
			if limit > 0 && len(dst) >= limit {
				break
			}
			l := sd.levels[j]
			dst = append(dst, Level{Price: l.price, Amount: l.total, Orders: l.count})
		}
		return dst
	}
	return get(bids, &b.bids), get(asks, &b.asks)
}

// OpenOrders returns an account's open orders (live and pending), oldest
// first.
func (x *Exchange) OpenOrders(accountID int64) []twinex.Order {
	a := x.accounts[accountID]
	if a == nil {
		return nil
	}
	var out []twinex.Order
	for o := a.head; o != nil; o = o.anext {
		out = append(out, o.Order)
	}
	return out
}

// OpenOrder returns one open order by id.
func (x *Exchange) OpenOrder(id int64) (twinex.Order, bool) {
	o := x.orders[id]
	if o == nil {
		return twinex.Order{}, false
	}
	return o.Order, true
}

// OpenOrderCount returns the number of open (live and pending) orders.
func (x *Exchange) OpenOrderCount() int { return len(x.orders) }

// OpenSessions returns the sessions (API keys, or "UI") that have open
// orders, sorted.
func (x *Exchange) OpenSessions() []string {
	seen := map[string]bool{}
	for _, o := range x.orders {
		seen[o.Session] = true
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
