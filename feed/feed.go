// Package feed fans the sequencer's committed output out to live
// subscribers (the WebSocket feeds). It knows nothing of sockets or JSON:
// it turns each durable batch into typed messages (book changes, trades,
// candles, order events) and puts them on bounded per-subscriber queues.
//
// Consistency: the hub is fed only from core's OnCommit, so every message
// describes committed state. The hub keeps its own copy of each market's
// book (the last published snapshot); a subscriber registers under the
// hub's lock and is handed that copy as its snapshot, so the changes queued
// after it continue it with no gap and no duplicate. Order events are
// matched to a core.Mark instead, since open orders are read from the core.
//
// Backpressure: OnCommit only appends the batch to the hub's inbox and
// returns; the hub's own goroutine does the work, so the sequencer never
// waits on a subscriber. A subscriber whose queue is full is dropped (its
// Done channel closes with a reason) rather than sent a stream with a hole.
package feed

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
)

// Interest bits of a subscription to one market.
const (
	Book   uint16 = 1 << iota // book snapshot and changes
	Trades                    // trades (with the snapshot's recent trades)
)

// CandleBit is the interest bit of the timeframe twinex.Timeframes[k].
func CandleBit(k int) uint16 { return 1 << (2 + k) }

// RecentTrades is how many trades a book snapshot carries (Gemini's docs
// say "the last 50").
const RecentTrades = 50

// batch is a private copy of one core.Committed.
type batch struct {
	seq    uint64
	events []engine.Event
	trades []twinex.Trade
	snaps  []*core.Snapshot
	at     time.Time
	notice *OrderEvent
}

// Notice queues an order event for a command the engine refused (Type
// "rejected" or "cancel_rejected"). Call it after the command returned:
// it goes through the inbox, so it follows every batch committed before.
func (h *Hub) Notice(ev OrderEvent) {
	ev.Seq = ^uint64(0) // after any mark
	h.push(&batch{notice: &ev, at: time.Now()})
}

type market struct {
	snap    *core.Snapshot
	trades  []twinex.Trade // recent, newest first
	lastTID int64
	lastID  int64           // EventID of the market's last update (or 0)
	candles []twinex.Candle // the latest per timeframe
	// closed is, per timeframe, the candle before the latest as the hub
	// last saw it: the one that closed last, final. A new subscriber's
	// history, read from the store before Watch, may predate its close.
	closed []twinex.Candle
	subs   watchers
}

// watchers is a market's subscribers with their interest bits: a slice,
// since every update walks all of them, and an index to add and remove in
// constant time.
type watchers struct {
	list []watcher
	at   map[*Sub]int
}

type watcher struct {
	s    *Sub
	bits uint16
}

// set records s's interest bits; zero bits remove it (the last one takes
// its place).
func (w *watchers) set(s *Sub, bits uint16) {
	k, ok := w.at[s]
	switch {
	case bits != 0 && ok:
		w.list[k].bits = bits
	case bits != 0:
		if w.at == nil {
			w.at = map[*Sub]int{}
		}
		w.at[s] = len(w.list)
		w.list = append(w.list, watcher{s, bits})
	case ok:
		last := len(w.list) - 1
		w.list[k] = w.list[last]
		w.at[w.list[k].s] = k
		w.list[last] = watcher{}
		w.list = w.list[:last]
		delete(w.at, s)
	}
}

// Hub fans committed batches out to subscribers. Create it with New, pass
// its Publish as core.Config.OnCommit, then Start it with the opened core.
type Hub struct {
	log     *slog.Logger
	markets *twinex.Markets

	inMu    sync.Mutex
	inbox   []*batch
	wake    chan struct{}
	closed  bool
	started bool
	done    chan struct{}

	mu       sync.Mutex
	mk       []*market
	accounts map[int64]map[*Sub]struct{}
	subs     map[*Sub]struct{}
	eventID  int64

	touched []*Sub // subscribers with messages in pend (under mu)

	// Pace is the least time between two passes over the inbox (New sets
	// DefaultPace). Batches that commit meanwhile wait and go out together
	// in the next pass, as one queue item per subscriber: under load each
	// subscriber's writer wakes and writes at most once per pace instead
	// of once per batch. An idle hub passes at once, so a lone batch waits
	// for nothing. Set it before Start.
	Pace time.Duration

	dropped atomic.Int64
	behind  atomic.Bool
	trace   atomic.Pointer[func(*Msg)]
}

// DefaultPace is the hub's Pace: it bounds the latency it adds under load.
const DefaultPace = 5 * time.Millisecond

// Trace sets a function called, on the hub's goroutine, with every update
// message before it is queued (benchmarks measure commit-to-client latency
// with it). nil removes it.
func (h *Hub) Trace(f func(*Msg)) {
	if f == nil {
		h.trace.Store(nil)
		return
	}
	h.trace.Store(&f)
}

// New returns a hub for the markets. log may be nil.
func New(ms *twinex.Markets, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{log: log, markets: ms, wake: make(chan struct{}, 1), done: make(chan struct{}), Pace: DefaultPace,
		accounts: map[int64]map[*Sub]struct{}{}, subs: map[*Sub]struct{}{}}
	for range ms.List {
		h.mk = append(h.mk, &market{})
	}
	return h
}

// Markets returns the hub's markets.
func (h *Hub) Markets() *twinex.Markets { return h.markets }

// Publish takes one committed batch. It is core's OnCommit: it copies what
// it needs and returns at once, never waiting for a subscriber.
func (h *Hub) Publish(c *core.Committed) {
	b := &batch{seq: c.Seq, at: time.Now(),
		events: append([]engine.Event(nil), c.Events...),
		trades: append([]twinex.Trade(nil), c.Trades...),
		snaps:  append([]*core.Snapshot(nil), c.Snapshots...)}
	h.push(b)
}

func (h *Hub) push(b *batch) {
	h.inMu.Lock()
	defer h.inMu.Unlock()
	if h.closed {
		return
	}
	h.inbox = append(h.inbox, b)
	if len(h.inbox) > MaxBacklog {
		h.behind.Store(true)
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// MaxBacklog is how many committed batches may wait for the hub. Beyond
// it the hub is too slow for its subscribers (the sequencer never waits
// for it): it drops them all, with a reason, and catches up alone.
const MaxBacklog = 10000

// Start loads each market's latest snapshot from c and starts the hub's
// goroutine. Batches published before Start are applied after it; the book
// diff is by state and trades are taken by id, so nothing repeats.
func (h *Hub) Start(c *core.Core) {
	h.mu.Lock()
	now := time.Now().UnixMilli()
	h.eventID = now * 1000 // below 2^53 for millennia; increasing across restarts
	for i, m := range h.mk {
		s := c.Snapshot(i)
		m.snap = s
		m.candles = s.Candles
		m.trades = firstN(s.Trades, RecentTrades)
		if len(s.Trades) > 0 {
			m.lastTID = s.Trades[0].ID
		}
	}
	h.mu.Unlock()
	h.inMu.Lock()
	h.started = true
	h.inMu.Unlock()
	go h.run()
}

func top(s *core.Snapshot) (t [2]engine.Level) {
	if len(s.Bids) > 0 {
		t[0] = s.Bids[0]
	}
	if len(s.Asks) > 0 {
		t[1] = s.Asks[0]
	}
	return t
}

func firstN(ts []twinex.Trade, n int) []twinex.Trade {
	if len(ts) > n {
		ts = ts[:n]
	}
	return append([]twinex.Trade(nil), ts...)
}

// Close drops every subscriber with reason why and stops the goroutine.
func (h *Hub) Close(why string) {
	h.inMu.Lock()
	already, started := h.closed, h.started
	h.closed = true
	if !already {
		close(h.wake)
	}
	h.inMu.Unlock()
	if !already && started {
		<-h.done
	}
	h.mu.Lock()
	for s := range h.subs {
		h.removeLocked(s)
		s.stop(why)
	}
	h.mu.Unlock()
}

// Dropped returns how many subscribers were dropped for falling behind.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

func (h *Hub) run() {
	defer close(h.done)
	for range h.wake {
		t := time.Now()
		h.mu.Lock()
		h.drainLocked()
		h.mu.Unlock()
		if d := h.Pace - time.Since(t); d > 0 {
			time.Sleep(d) // what commits meanwhile goes out in one pass
		}
	}
}

// drainLocked applies every batch waiting in the inbox. h.mu is held: the
// batches are taken and applied under it, so that the hub goroutine and a
// Watch that drains first (for read-your-writes) never apply them out of
// order. The committer only ever takes inMu.
func (h *Hub) drainLocked() {
	h.inMu.Lock()
	in := h.inbox
	h.inbox = nil
	started := h.started
	h.inMu.Unlock()
	if !started {
		h.inMu.Lock()
		h.inbox = append(in, h.inbox...)
		h.inMu.Unlock()
		return
	}
	if h.behind.Swap(false) {
		for s := range h.subs {
			h.removeLocked(s)
			h.dropped.Add(1)
			s.stop("server overloaded: the feed fell behind the exchange")
		}
		h.log.Warn("feed hub fell behind; every subscriber dropped", "backlog", len(in))
	}
	for _, b := range in {
		h.apply(b)
	}
	h.flushLocked()
}

// flushLocked hands each subscriber the messages this pass queued for it,
// as one item of its queue. h.mu is held.
func (h *Hub) flushLocked() {
	for _, s := range h.touched {
		if len(s.pend) == 0 {
			continue // dropped meanwhile
		}
		s.queued.Add(int64(len(s.pend)))
		// enqueue keeps the messages within the limit, and every item
		// holds one at least: the channel, as long, has room.
		s.Q <- &Item{Msgs: s.pend}
		s.pend = nil
	}
	clear(h.touched)
	h.touched = h.touched[:0]
}

// apply fans one batch out. h.mu is held.
func (h *Hub) apply(b *batch) {
	if ev := b.notice; ev != nil {
		h.eventID++
		ev.ID = h.eventID
		msg := &Msg{Kind: KindOrders, Account: ev.Order.AccountID, At: b.at, Time: ev.Order.Updated, Events: []OrderEvent{*ev}}
		for s := range h.accounts[ev.Order.AccountID] {
			h.enqueue(s, msg)
		}
		return
	}
	for _, s := range b.snaps {
		m := h.mk[s.Index]
		var trades []twinex.Trade
		for _, t := range b.trades {
			if t.ID > m.lastTID && t.Market == s.Market.Symbol {
				trades = append(trades, t)
			}
		}
		changes := diff(m.snap, s, trades)
		if n := len(trades); n > 0 {
			m.lastTID = trades[n-1].ID
			nt := make([]twinex.Trade, 0, RecentTrades)
			for k := n - 1; k >= 0 && len(nt) < RecentTrades; k-- {
				nt = append(nt, trades[k])
			}
			for _, t := range m.trades {
				if len(nt) == RecentTrades {
					break
				}
				nt = append(nt, t)
			}
			m.trades = nt
		}
		m.snap = s
		if len(changes) > 0 || len(trades) > 0 {
			h.eventID++
			msg := &Msg{Kind: KindUpdate, Market: s.Index, Time: s.Time, At: b.at, EventID: h.eventID, PrevEventID: m.lastID, Changes: changes, Trades: trades, Top: top(s)}
			m.lastID = h.eventID
			if f := h.trace.Load(); f != nil {
				(*f)(msg)
			}
			h.fan(m, Book|Trades, msg)
		}
		for k := range s.Candles {
			if k < len(m.candles) && s.Candles[k] == m.candles[k] || s.Candles[k].Timeframe == "" {
				continue
			}
			if k < len(m.candles) && m.candles[k].Timeframe != "" && m.candles[k].Start < s.Candles[k].Start {
				if len(m.closed) < len(s.Candles) {
					m.closed = append(m.closed, make([]twinex.Candle, len(s.Candles)-len(m.closed))...)
				}
				m.closed[k] = m.candles[k]
			}
			msg := &Msg{Kind: KindCandles, Market: s.Index, Time: s.Time, At: b.at, TF: k, Candles: []twinex.Candle{s.Candles[k]}}
			h.fan(m, CandleBit(k), msg)
		}
		m.candles = s.Candles
	}
	h.orders(b)
}

// orders queues a batch's order events: consecutive events of one account
// go out as one message.
func (h *Hub) orders(b *batch) {
	for i := 0; i < len(b.events); {
		acct := b.events[i].Order.AccountID
		j := i
		var evs []OrderEvent
		for ; j < len(b.events) && b.events[j].Order.AccountID == acct; j++ {
			if b.events[j].Kind == engine.EventTriggered {
				continue // not a Gemini order event
			}
			h.eventID++
			evs = append(evs, OrderEvent{Event: b.events[j], Seq: b.seq, Index: j, ID: h.eventID})
		}
		if subs := h.accounts[acct]; len(subs) > 0 && len(evs) > 0 {
			msg := &Msg{Kind: KindOrders, Account: acct, At: b.at, Time: evs[0].Order.Updated, Events: evs}
			for s := range subs {
				h.enqueue(s, msg)
			}
		}
		i = j
	}
}

func (h *Hub) fan(m *market, bits uint16, msg *Msg) {
	for k := 0; k < len(m.subs.list); k++ {
		w := m.subs.list[k]
		if w.bits&bits == 0 {
			continue
		}
		h.enqueue(w.s, msg)
		if k < len(m.subs.list) && m.subs.list[k].s != w.s {
			k-- // enqueue dropped w.s: the last one took its place
		}
	}
}

// enqueue queues msg for s in this pass (flushLocked hands it over), or
// drops s when its queue is full. The hub's mu is held.
func (h *Hub) enqueue(s *Sub, msg *Msg) {
	if int(s.queued.Load())+len(s.pend) >= s.limit {
		h.dropped.Add(1)
		h.removeLocked(s)
		why := "slow reader: more than " + itoa(s.limit) + " messages waiting"
		h.log.Warn("feed subscriber dropped", "key", s.Key, "why", why)
		s.stop(why)
		return
	}
	if len(s.pend) == 0 {
		h.touched = append(h.touched, s)
	}
	s.pend = append(s.pend, msg)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// Watch subscribes s to market i for the interest bits, and queues what a
// new subscriber needs first: for Book or Trades, a snapshot of the book
// and recent trades; for each candle bit, the history given (newest first,
// from the store) merged with the hub's latest candle and the one that
// closed before it. A repeated Watch
// sends a fresh snapshot. It reports false when s was already dropped.
func (h *Hub) Watch(s *Sub, i int, bits uint16, history map[int][]twinex.Candle) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.isDone(s) {
		return false
	}
	// Everything committed before this call is in the snapshot: a client
	// that placed an order through REST and then subscribes sees it.
	h.drainLocked()
	h.subs[s] = struct{}{}
	s.hub = h
	m := h.mk[i]
	s.want[i] |= bits
	m.subs.set(s, s.want[i])
	if bits&(Book|Trades) != 0 {
		h.eventID++
		h.enqueue(s, &Msg{Kind: KindSnapshot, Market: i, Time: m.snap.Time, At: time.Now(), EventID: h.eventID, PrevEventID: m.lastID,
			Bids: m.snap.Bids, Asks: m.snap.Asks, Trades: m.trades})
	}
	for k := range twinex.Timeframes {
		if bits&CandleBit(k) == 0 {
			continue
		}
		cs := history[k]
		if k < len(m.closed) {
			cs = mergeCandle(cs, m.closed[k])
		}
		if k < len(m.candles) {
			cs = mergeCandle(cs, m.candles[k])
		}
		h.enqueue(s, &Msg{Kind: KindCandles, Market: i, Time: m.snap.Time, At: time.Now(), TF: k, Candles: cs})
	}
	h.flushLocked()
	return !h.isDone(s)
}

// Book returns market i's book as the hub holds it (best first) and the
// EventID of the last update it includes.
func (h *Hub) Book(i int) (bids, asks []engine.Level, lastID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.mk[i]
	if m.snap == nil {
		return nil, nil, m.lastID
	}
	return m.snap.Bids, m.snap.Asks, m.lastID
}

// Unwatch removes interest bits of s in market i.
func (h *Hub) Unwatch(s *Sub, i int, bits uint16) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s.want[i] &^= bits
	h.mk[i].subs.set(s, s.want[i])
	if s.want[i] == 0 {
		delete(s.want, i)
	}
}

// WatchOrders subscribes s to the order events of the accounts. Events are
// queued from now on; the caller reads the open orders with
// core.OpenOrders afterwards and skips the events before its mark.
func (h *Hub) WatchOrders(s *Sub, accounts []int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.isDone(s) {
		return false
	}
	h.drainLocked() // what was published before is not this subscriber's
	h.subs[s] = struct{}{}
	s.hub = h
	s.accounts = append(s.accounts, accounts...)
	for _, a := range accounts {
		if h.accounts[a] == nil {
			h.accounts[a] = map[*Sub]struct{}{}
		}
		h.accounts[a][s] = struct{}{}
	}
	return true
}

// Remove unsubscribes s from everything and closes it with reason why.
func (h *Hub) Remove(s *Sub, why string) {
	h.mu.Lock()
	h.removeLocked(s)
	h.mu.Unlock()
	s.stop(why)
}

// DropKey closes every subscriber opened with the API key, with reason
// why, and returns how many there were.
func (h *Hub) DropKey(key, why string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for s := range h.subs {
		if s.Key == key {
			h.removeLocked(s)
			s.stop(why)
			n++
		}
	}
	return n
}

// Subscribers returns how many subscribers are registered.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

func (h *Hub) isDone(s *Sub) bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (h *Hub) removeLocked(s *Sub) {
	delete(h.subs, s)
	for i := range s.want {
		h.mk[i].subs.set(s, 0)
	}
	clear(s.want)
	for _, a := range s.accounts {
		if m := h.accounts[a]; m != nil {
			delete(m, s)
			if len(m) == 0 {
				delete(h.accounts, a)
			}
		}
	}
	s.accounts = nil
	s.pend = nil // a dropped subscriber gets nothing more
}
