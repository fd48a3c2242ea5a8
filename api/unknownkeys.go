package api

import (
	"context"
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
// naming a key that does not exist is refused with InvalidSignature at
// once, is not written to the activity log, and is counted in
// DroppedUnknownKeys. Every real key keeps working from that address (the
// key service knows every key id without a query per request), so a
// neighbour behind the same NAT cannot lock it out. The key service also
// remembers missing ids for a minute.
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
func (s *Server) overUnknownLimit(ctx context.Context, ip netip.Addr, keyID string, now time.Time) bool {
	if !s.unknown.window.Full(ratelimit.ClientKey(ip), now) {
		return false
	}
	if exists, err := s.Keys.Exists(ctx, keyID); err != nil || exists {
		return false // a store failure is not the client's fault: look it up as usual
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
