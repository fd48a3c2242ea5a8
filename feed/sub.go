package feed

import (
	"sync"
	"sync/atomic"
)

// Sub is one subscriber: a bounded queue of messages and its interests.
type Sub struct {
	// Q is the subscriber's queue. Only the hub sends on it: each Item is
	// the subscriber's messages of one pass of the hub (every batch it
	// found waiting), in order, so that a reader wakes once per pass and
	// not once per message. The reader calls Taken with each item's length.
	Q     chan *Item
	Key   string // the API key that opened it, "" for public feeds
	limit int
	// queued is how many messages wait in Q; with pend it is held to limit.
	queued atomic.Int64
	done   chan struct{}
	kick   chan struct{} // NotifyOnStop's
	once   sync.Once
	why    atomic.Pointer[string]

	// guarded by the hub's mu
	want     map[int]uint16
	accounts []int64
	hub      *Hub
	pend     []*Msg // this pass's messages, not yet in Q
}

// NewSub returns a subscriber with a queue of n messages.
func NewSub(n int, key string) *Sub {
	n = max(n, 1)
	return &Sub{Q: make(chan *Item, n), Key: key, limit: n, done: make(chan struct{}), want: map[int]uint16{}}
}

// Item is one entry of a subscriber's queue: its messages of one pass
// of the hub, in order. (A pointer, so the queue's buffer costs a word a
// slot.)
type Item struct{ Msgs []*Msg }

// Taken tells the subscriber that its reader took n messages (an item of
// Q) off the queue.
func (s *Sub) Taken(n int) { s.queued.Add(-int64(n)) }

// Queued returns how many messages wait in Q.
func (s *Sub) Queued() int { return int(s.queued.Load()) }

// Done is closed when the subscriber was dropped (Why says why) or closed.
func (s *Sub) Done() <-chan struct{} { return s.done }

// Why returns why the subscriber was dropped, "" while it is not.
func (s *Sub) Why() string {
	if p := s.why.Load(); p != nil {
		return *p
	}
	return ""
}

// NotifyOnStop makes the subscriber's drop (or close) also send on ch
// without blocking, for a reader that waits on ch for several reasons.
// Call it before the subscriber is used.
func (s *Sub) NotifyOnStop(ch chan struct{}) { s.kick = ch }

func (s *Sub) stop(why string) {
	s.once.Do(func() {
		s.why.Store(&why)
		close(s.done)
		if s.kick != nil {
			select {
			case s.kick <- struct{}{}:
			default:
			}
		}
	})
}
