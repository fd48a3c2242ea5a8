package feed

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
)

// randomSide returns up to n levels with distinct prices, best first.
func randomSide(r *rand.Rand, n int, bids bool) []engine.Level {
	seen := map[int64]bool{}
	var ls []engine.Level
	for i := 0; i < n; i++ {
		p := 100 + r.Int64N(20)
		if seen[p] {
			continue
		}
		seen[p] = true
		ls = append(ls, engine.Level{Price: p, Amount: 1 + r.Int64N(5)})
	}
	sort.Slice(ls, func(i, j int) bool {
		if bids {
			return ls[i].Price > ls[j].Price
		}
		return ls[i].Price < ls[j].Price
	})
	return ls
}

// TestDiffRebuildsTheBook applies diffs between random books to a plain
// map and checks that it always equals the new book (seeded; the seed is
// printed on failure).
func TestDiffRebuildsTheBook(t *testing.T) {
	seed := uint64(20261202)
	r := rand.New(rand.NewPCG(seed, 1))
	prev := &core.Snapshot{}
	book := map[[2]int64]int64{} // (side, price) -> amount
	for step := 0; step < 2000; step++ {
		next := &core.Snapshot{Bids: randomSide(r, r.IntN(10), true), Asks: randomSide(r, r.IntN(10), false)}
		for _, c := range diff(prev, next, nil) {
			k := [2]int64{int64(c.Side), c.Price}
			if book[k]+c.Delta != c.Amount {
				t.Fatalf("seed %d step %d: delta %d from %d does not give %d", seed, step, c.Delta, book[k], c.Amount)
			}
			if c.Amount == 0 {
				delete(book, k)
			} else {
				book[k] = c.Amount
			}
		}
		want := map[[2]int64]int64{}
		for _, l := range next.Bids {
			want[[2]int64{int64(twinex.Buy), l.Price}] = l.Amount
		}
		for _, l := range next.Asks {
			want[[2]int64{int64(twinex.Sell), l.Price}] = l.Amount
		}
		if len(want) != len(book) {
			t.Fatalf("seed %d step %d: %d levels, want %d", seed, step, len(book), len(want))
		}
		for k, v := range want {
			if book[k] != v {
				t.Fatalf("seed %d step %d: level %v is %d, want %d", seed, step, k, book[k], v)
			}
		}
		prev = next
	}
}

func testHub(t *testing.T) *Hub {
	ms := twinex.DefaultMarkets()
	h := New(ms, nil)
	for _, m := range h.mk {
		m.snap = &core.Snapshot{}
	}
	h.started = true // as Start would, without a core
	return h
}

// pass applies one batch as one pass of the hub would.
func pass(h *Hub, b *batch) {
	h.apply(b)
	h.flushLocked()
}

// TestSlowReaderIsDroppedNotSkipped fills a subscriber's queue: it is
// dropped with a reason and gets nothing after, while another subscriber
// gets every update.
func TestSlowReaderIsDroppedNotSkipped(t *testing.T) {
	h := testHub(t)
	slow, fast := NewSub(4, ""), NewSub(100, "")
	h.Watch(slow, 0, Book, nil)
	h.Watch(fast, 0, Book, nil)
	for i := 0; i < 10; i++ {
		s := &core.Snapshot{Index: 0, Market: h.markets.List[0], Bids: []engine.Level{{Price: int64(100 + i), Amount: 1}}}
		pass(h, &batch{seq: uint64(i + 1), snaps: []*core.Snapshot{s}})
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber not dropped")
	}
	if why := slow.Why(); why == "" {
		t.Fatal("no reason")
	}
	if slow.Queued() != 4 || h.Dropped() != 1 {
		t.Fatalf("slow queue %d dropped %d", slow.Queued(), h.Dropped())
	}
	if fast.Queued() != 11 { // snapshot + 10 updates
		t.Fatalf("fast subscriber got %d", fast.Queued())
	}
	if h.Subscribers() != 1 {
		t.Fatalf("%d subscribers left", h.Subscribers())
	}
}

// TestOrderEventsAfterTheMark: events are grouped per account and carry
// their batch position, so a reader can skip those before its mark.
func TestOrderEventsGroupedPerAccount(t *testing.T) {
	h := testHub(t)
	a, b := NewSub(10, ""), NewSub(10, "")
	h.WatchOrders(a, []int64{1})
	h.WatchOrders(b, []int64{2})
	evs := []engine.Event{
		{Kind: engine.EventAccepted, Order: twinex.Order{ID: 10, AccountID: 1}},
		{Kind: engine.EventBooked, Order: twinex.Order{ID: 10, AccountID: 1}},
		{Kind: engine.EventFill, Order: twinex.Order{ID: 11, AccountID: 2}},
		{Kind: engine.EventTriggered, Order: twinex.Order{ID: 12, AccountID: 1}},
		{Kind: engine.EventClosed, Order: twinex.Order{ID: 10, AccountID: 1}},
	}
	pass(h, &batch{seq: 7, events: evs})
	if len(a.Q) != 1 || a.Queued() != 2 || b.Queued() != 1 {
		t.Fatalf("queues %d %d", a.Queued(), b.Queued())
	}
	item := (<-a.Q).Msgs
	m := item[0]
	if len(m.Events) != 2 || m.Events[1].Index != 1 || m.Events[0].Seq != 7 || m.Events[0].ID >= m.Events[1].ID {
		t.Fatalf("first message %+v", m.Events)
	}
	m = item[1]
	if len(m.Events) != 1 || m.Events[0].Index != 4 {
		t.Fatalf("triggered events are not order events: %+v", m.Events)
	}
}

// TestBacklogDropsSubscribers: a hub that falls more than MaxBacklog
// batches behind drops its subscribers instead of serving them a stale
// stream, and then catches up.
func TestBacklogDropsSubscribers(t *testing.T) {
	h := testHub(t)
	s := NewSub(10, "")
	h.Watch(s, 0, Book, nil)
	for i := 0; i <= MaxBacklog; i++ {
		h.Publish(&core.Committed{Seq: uint64(i + 1)})
	}
	go h.run()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("subscriber not dropped")
	}
	if !strings.Contains(s.Why(), "overloaded") {
		t.Fatalf("why %q", s.Why())
	}
	h.Close("test over")
}

// TestCandleHistoryKeepsTheMinuteThatClosedMeanwhile: a subscriber's
// candle history is read from the store before Watch; a minute that closes
// in between is taken from the hub, final, and an open minute's stored
// copy is replaced by the hub's.
func TestCandleHistoryKeepsTheMinuteThatClosedMeanwhile(t *testing.T) {
	h := testHub(t)
	const min = int64(time.Minute)
	candle := func(start, close, vol int64) twinex.Candle {
		return twinex.Candle{Market: "btcusd", Timeframe: "1m", Start: start * min, Open: 100, High: 110, Low: 90, Close: close, Volume: vol}
	}
	snap := func(c twinex.Candle) *core.Snapshot {
		cs := make([]twinex.Candle, len(twinex.Timeframes))
		cs[0] = c
		return &core.Snapshot{Index: 0, Market: h.markets.List[0], Candles: cs}
	}
	// The store was read while minute 11 was open (two trades in).
	history := map[int][]twinex.Candle{0: {candle(11, 101, 2), candle(10, 100, 5)}}
	// Then minute 11 took a third trade and closed, and minute 12 opened.
	pass(h, &batch{seq: 1, snaps: []*core.Snapshot{snap(candle(11, 102, 3))}})
	pass(h, &batch{seq: 2, snaps: []*core.Snapshot{snap(candle(12, 103, 1))}})
	s := NewSub(10, "")
	if !h.Watch(s, 0, CandleBit(0), history) {
		t.Fatal("dropped")
	}
	m := (<-s.Q).Msgs[0]
	want := []twinex.Candle{candle(12, 103, 1), candle(11, 102, 3), candle(10, 100, 5)}
	if len(m.Candles) != len(want) {
		t.Fatalf("history %+v, want %+v", m.Candles, want)
	}
	for i := range want {
		if m.Candles[i] != want[i] {
			t.Fatalf("candle %d is %+v, want %+v", i, m.Candles[i], want[i])
		}
	}
	if history[0][0] != candle(11, 101, 2) {
		t.Fatal("the given history was changed")
	}
	// A history read after the close, with nothing newer in the hub than
	// the stored open minute, is sent as stored plus the hub's copy.
	s2 := NewSub(10, "")
	h.Watch(s2, 0, CandleBit(0), map[int][]twinex.Candle{0: {candle(12, 103, 1), candle(11, 102, 3)}})
	if m := (<-s2.Q).Msgs[0]; len(m.Candles) != 2 || m.Candles[0] != candle(12, 103, 1) || m.Candles[1] != candle(11, 102, 3) {
		t.Fatalf("second history %+v", m.Candles)
	}
}

// TestPassIsOneItem: the batches of one pass reach a subscriber as one
// queue item, in order, and the queue's bound counts messages across
// items: a pass that would pass it drops the subscriber and queues none
// of its messages.
func TestPassIsOneItem(t *testing.T) {
	h := testHub(t)
	s := NewSub(4, "")
	h.Watch(s, 0, Book, nil)
	if got := (<-s.Q).Msgs; len(got) != 1 || got[0].Kind != KindSnapshot {
		t.Fatalf("snapshot item %+v", got)
	}
	s.Taken(1)
	book := func(i int) *batch {
		return &batch{seq: uint64(i), snaps: []*core.Snapshot{{Index: 0, Market: h.markets.List[0], Bids: []engine.Level{{Price: int64(100 + i), Amount: 1}}}}}
	}
	h.apply(book(1))
	h.apply(book(2))
	h.apply(book(3))
	h.flushLocked()
	if len(s.Q) != 1 || s.Queued() != 3 {
		t.Fatalf("%d items, %d messages; want 1 item of 3", len(s.Q), s.Queued())
	}
	item := (<-s.Q).Msgs
	for k := 1; k < len(item); k++ {
		if item[k].EventID <= item[k-1].EventID || item[k].PrevEventID != item[k-1].EventID {
			t.Fatalf("item out of order: %+v", item)
		}
	}
	// Not taken yet: three wait, so a pass of two more passes the bound.
	h.apply(book(4))
	h.apply(book(5))
	h.flushLocked()
	select {
	case <-s.Done():
	default:
		t.Fatal("subscriber over its bound not dropped")
	}
	if len(s.Q) != 0 || s.Queued() != 3 {
		t.Fatalf("a dropped subscriber got %d more items", len(s.Q))
	}
}
