package ratelimit

import (
	"net/netip"
	"sync"
	"time"
)

// Window counts events per key in a sliding window, in memory (a restart
// forgets the counts): for limits on rare events, such as password-reset
// requests or requests naming API keys that do not exist. Set Max and Per
// before use; it is safe for concurrent use.
type Window struct {
	Max int
	Per time.Duration

	mu     sync.Mutex
	seen   map[string][]time.Time
	pruned time.Time
}

// Allow records an event for key at now and reports whether it is within
// the limit; a refused event is not recorded. When refused, it returns
// the wait until the oldest counted event leaves the window.
func (w *Window) Allow(key string, now time.Time) (bool, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := w.current(key, now)
	if len(ts) >= w.Max {
		return false, w.Per - now.Sub(ts[0])
	}
	w.seen[key] = append(ts, now)
	return true, 0
}

// Full reports whether key has had Max events within the window, without
// recording one.
func (w *Window) Full(key string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.current(key, now)) >= w.Max
}

// Add records an event for key at now, whatever the count (keeping at most
// Max of them).
func (w *Window) Add(key string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := w.current(key, now)
	if len(ts) >= w.Max && len(ts) > 0 {
		ts = ts[1:]
	}
	w.seen[key] = append(ts, now)
}

// current returns key's events within the window, forgetting older ones
// (and, once per window, every key whose events are all older).
func (w *Window) current(key string, now time.Time) []time.Time {
	if w.seen == nil {
		w.seen = map[string][]time.Time{}
	}
	if now.Sub(w.pruned) > w.Per {
		for k, ts := range w.seen {
			if now.Sub(ts[len(ts)-1]) >= w.Per {
				delete(w.seen, k)
			}
		}
		w.pruned = now
	}
	ts := w.seen[key]
	for len(ts) > 0 && now.Sub(ts[0]) >= w.Per {
		ts = ts[1:]
	}
	if len(ts) == 0 {
		delete(w.seen, key)
	}
	return ts
}

// ClientKey groups client addresses for per-client limits: an IPv4
// address itself, an IPv6 address's /64 (one host may hold a whole /64 and
// rotate through it). The zero Addr gives "".
func ClientKey(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
