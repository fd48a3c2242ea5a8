package api

import (
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/ratelimit"
)

// Requests naming API keys that do not exist (a scanner trying ids, a
// client still running with a deleted key) are limited per client address
// (an IPv6 address's /64) before they are looked up or logged: past
// UnknownKeysPerMinute of them in a minute, a request from that address
// naming a key the server has not loaded is refused with InvalidSignature
// at once, is not written to the activity log, and is counted in
// DroppedUnknownKeys. Keys already loaded keep working from that address.
// The key service remembers missing ids for a minute, so a repeated one
// costs no database query either.
const UnknownKeysPerMinute = 60

// errUnknownDropped marks a refusal that the limit above dropped: record
// skips it.
var errUnknownDropped = errors.New("request naming an unknown API key dropped by the per-address limit")

// unknownKeys is the per-address limit on requests naming unknown keys.
type unknownKeys struct {
	window  ratelimit.Window
	dropped atomic.Int64
}

func newUnknownKeys() *unknownKeys {
	return &unknownKeys{window: ratelimit.Window{Max: UnknownKeysPerMinute, Per: time.Minute}}
}

// DroppedUnknownKeys is how many requests naming unknown keys were refused
// by the per-address limit without being logged, since the server started.
func (s *Server) DroppedUnknownKeys() int64 { return s.unknown.dropped.Load() }

// overUnknownLimit reports whether a request from ip naming a key that is
// not loaded must be dropped; it counts it if so.
func (s *Server) overUnknownLimit(ip netip.Addr, keyID string, now time.Time) bool {
	if s.Keys.Cached(keyID) || !s.unknown.window.Full(ratelimit.ClientKey(ip), now) {
		return false
	}
	if n := s.unknown.dropped.Add(1); n&(n-1) == 0 { // log at 1, 2, 4, 8, ...
		s.Logger.Warn("requests naming unknown API keys over the per-address limit; dropped without logging",
			"ip", ip.String(), "dropped_total", n)
	}
	return true
}

// unknownKey counts a request from ip that named a key that does not exist.
func (s *Server) unknownKey(ip netip.Addr, now time.Time) {
	s.unknown.window.Add(ratelimit.ClientKey(ip), now)
}

// droppedUnknown is the refusal of a dropped request: the same answer as
// any unknown key.
func droppedUnknown() error {
	return &twinex.Error{Reason: twinex.InvalidSignature, Message: "InvalidSignature", Err: errUnknownDropped}
}
