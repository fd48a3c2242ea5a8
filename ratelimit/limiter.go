// Package ratelimit is a keyed rate limiter for Gemini's limits (reference
// §4): per IP on public endpoints, per API key on private ones, per
// subaccount on a few endpoints.
//
// Gemini's semantics: a key has an allowance of Rate requests per Per
// (120 a minute per address, 600 a minute per API key). Past the
// allowance, up to Burst further requests (5) are queued, delayed until
// the allowance refills; anything beyond gets 429. The allowance is a
// token bucket holding Rate requests that refills continuously at
// Rate/Per, so a client that never sends more than Rate requests in any
// window of length Per is always admitted at once (the bucket refills at
// least as fast as such a client spends it), and a client that sends all
// of its Rate requests at the same instant is admitted too.
//
// It implements the bucket as GCRA (the generic cell rate algorithm, the
// "virtual scheduling" form of a leaky bucket): each key holds one int64,
// its theoretical arrival time (TAT). With interval T = Per/Rate, a
// request at time now, with late = max(TAT, now) - now, is
//   - admitted at once when late <= (Rate-1)·T (a token is left);
//   - queued when late <= (Rate-1+Burst)·T: admitted, but to be served
//     only after delay = late - (Rate-1)·T, when its token has refilled;
//   - refused otherwise, with retryAfter = late - (Rate-1)·T, the time
//     after which a request would be admitted at once.
//
// An admitted request (queued or not) sets TAT = max(TAT, now) + T. The
// number of queued requests waiting on a key at any moment is therefore
// at most Burst: each one holds a distinct slot T apart.
//
// Time is passed in by the caller (STYLE habit 6); the limiter never reads
// the clock nor sleeps: Take returns the delay, and the caller waits
// (api.Server does, giving up when the request's context ends). Callers'
// clocks should be roughly monotonic; a request stamped earlier than the
// previous one on the same key is judged as if it arrived then.
package ratelimit

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// numShards is the number of independently locked maps. 64 keeps lock
// contention low on machines with many cores at a cost of a few KB.
const numShards = 64

// minSweep is the map size under which a shard never sweeps from Allow:
// small maps cost nothing and sweeping them often would.
const minSweep = 256

// params is a Limit compiled to the numbers GCRA uses.
type params struct {
	limit     Limit
	unlimited bool
	t         int64 // emission interval T in ns, >= 1
	allowance int64 // (Rate-1)*T in ns: how late a request may be and still be served at once
	queue     int64 // (Rate-1+Burst)*T in ns: how late a request may be and still be queued
}

func compile(l Limit) *params {
	if l.Unlimited() {
		return &params{limit: l, unlimited: true}
	}
	t := int64(l.Interval())
	mul := func(n int64) int64 { // n*t, saturating
		if n > math.MaxInt64/t {
			return math.MaxInt64
		}
		return n * t
	}
	p := &params{limit: l, t: t, allowance: mul(int64(l.Rate) - 1), queue: mul(int64(l.Rate) - 1 + int64(l.Burst))}
	if p.queue-p.allowance > int64(MaxQueueDelay) {
		p.queue = p.allowance + int64(MaxQueueDelay)
	}
	return p
}

// MaxQueueDelay bounds how long Take queues a request: with a slow limit
// ("10/1h+5") the Burst-th queued request would otherwise wait longer than
// an HTTP server's write timeout or a client's patience. A request that
// would wait longer is refused, as if the queue were full. Gemini's own
// limits queue for at most 2.5 s (public) and 0.5 s (signed).
const MaxQueueDelay = 10 * time.Second

// shard is one locked part of the key space.
type shard struct {
	mu   sync.Mutex
	tat  map[string]int64   // key -> theoretical arrival time, UnixNano
	over map[string]*params // per-key overrides; nil until the first one
	// nextSweep is the size at which inserting a new key sweeps expired
	// keys first; doubling it after each sweep keeps Allow amortised O(1).
	nextSweep int
	// peak is the largest size since the map was last rebuilt. Go maps
	// never give memory back on delete, so a sweep that leaves far fewer
	// keys than peak copies them into a new map.
	peak int
	_    [64]byte // keep shards' locks on separate cache lines
}

// Limiter is a keyed rate limiter, safe for concurrent use. Each key (an
// IP, an API key, a subaccount) has its own budget under the default
// Limit, or under its override. Create it with New; the zero value is not
// usable.
//
// Memory: a key costs one map entry only while its TAT is in the future,
// that is for at most (Rate+Burst)·T after its last admitted request. Expired
// keys are swept when a shard grows (amortised inside Allow) and by Prune;
// dropping them never changes a decision, because an expired key is
// treated exactly like an unknown one.
type Limiter struct {
	seed      maphash.Seed
	def       atomic.Pointer[params]
	overrides atomic.Int64 // number of overrides, for the unlimited fast path
	shards    [numShards]shard
}

// New returns a Limiter applying l to every key. It panics if l is
// invalid (see Limit.Validate); use ParseLimit or Validate first for
// limits that come from configuration.
func New(l Limit) *Limiter {
	if err := l.Validate(); err != nil {
		panic("ratelimit.New: " + err.Error())
	}
	lim := &Limiter{seed: maphash.MakeSeed()}
	lim.def.Store(compile(l))
	for i := range lim.shards {
		lim.shards[i].tat = make(map[string]int64)
		lim.shards[i].nextSweep = minSweep
	}
	return lim
}

func (lim *Limiter) shard(key string) *shard {
	return &lim.shards[maphash.String(lim.seed, key)%numShards]
}

// Allow reports whether a request on key at time now is admitted at once,
// within the allowance, and if not, how long until a request on key would
// be: a retry at now+retryAfter succeeds unless another request on key is
// admitted in between. retryAfter is 0 when ok. Allow never queues: use
// Take for Gemini's queue. An admitted request uses up allowance; a
// rejected one does not.
//
// Allow does not allocate except when it starts tracking a new key.
func (lim *Limiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	delay, ok, retryAfter := lim.take(key, now, false)
	return ok && delay == 0, retryAfter
}

// Take decides a request on key at time now with Gemini's queue: within
// the allowance it is admitted with delay 0; past it, up to Burst requests
// are admitted with a delay, the time until the allowance has refilled for
// them, which the caller must wait before serving the request; beyond
// those it is refused (ok false) with retryAfter, the time after which a
// request would be admitted at once. A queued request has used up its
// place whether or not the caller waits for it.
//
// Take does not allocate except when it starts tracking a new key.
func (lim *Limiter) Take(key string, now time.Time) (delay time.Duration, ok bool, retryAfter time.Duration) {
	return lim.take(key, now, true)
}

func (lim *Limiter) take(key string, now time.Time, queue bool) (delay time.Duration, ok bool, retryAfter time.Duration) {
	if lim.def.Load().unlimited && lim.overrides.Load() == 0 {
		return 0, true, 0
	}
	n := now.UnixNano()
	s := lim.shard(key)
	s.mu.Lock()
	// Loaded under the shard lock so that SetLimit, which resets the
	// shard under the same lock after storing the new limit, never sees a
	// TAT computed with the old one.
	p := lim.def.Load()
	if s.over != nil {
		if o, found := s.over[key]; found {
			p = o
		}
	}
	if p.unlimited {
		s.mu.Unlock()
		return 0, true, 0
	}
	tat, known := s.tat[key]
	if tat < n {
		tat = n
	}
	late := tat - n
	limit := p.allowance
	if queue {
		limit = p.queue
	}
	if late > limit {
		s.mu.Unlock()
		return 0, false, time.Duration(late - p.allowance)
	}
	next := tat + p.t
	if next < tat { // overflow with absurd periods
		next = math.MaxInt64
	}
	if known {
		s.tat[key] = next
	} else {
		s.insert(key, next, n)
	}
	s.mu.Unlock()
	return time.Duration(max(0, late-p.allowance)), true, 0
}

// insert adds a new key, first sweeping expired keys if the shard has
// grown past nextSweep. The caller holds s.mu.
func (s *shard) insert(key string, tat, now int64) {
	if len(s.tat) >= s.nextSweep {
		s.sweep(now)
		s.nextSweep = max(2*len(s.tat), minSweep)
	}
	// Clone: the caller's key may point into a larger buffer (a request
	// line) that the map would otherwise keep alive.
	s.tat[strings.Clone(key)] = tat
	s.peak = max(s.peak, len(s.tat))
}

// sweep deletes keys whose TAT is not after now, and rebuilds the map
// when it has shrunk to a quarter of its peak. It returns the number of
// keys deleted. The caller holds s.mu.
func (s *shard) sweep(now int64) int {
	before := len(s.tat)
	for k, t := range s.tat {
		if t <= now {
			delete(s.tat, k)
		}
	}
	if s.peak >= 4*minSweep && len(s.tat) <= s.peak/4 {
		m := make(map[string]int64, len(s.tat))
		for k, t := range s.tat {
			m[k] = t
		}
		s.tat = m
		s.peak = len(m)
	}
	return before - len(s.tat)
}

// Prune forgets every key that has been idle long enough to have its full
// budget back at now, and returns how many it forgot. It never changes a
// decision: a forgotten key is judged exactly as before. Call it
// periodically (say every minute) to free memory after a flood of distinct
// keys that stopped; Allow also sweeps as shards grow.
func (lim *Limiter) Prune(now time.Time) int {
	n := now.UnixNano()
	total := 0
	for i := range lim.shards {
		s := &lim.shards[i]
		s.mu.Lock()
		total += s.sweep(n)
		s.nextSweep = max(2*len(s.tat), minSweep)
		s.mu.Unlock()
	}
	return total
}

// Len returns the number of keys currently tracked (including expired
// ones not yet swept). It is meant for metrics and tests.
func (lim *Limiter) Len() int {
	total := 0
	for i := range lim.shards {
		s := &lim.shards[i]
		s.mu.Lock()
		total += len(s.tat)
		s.mu.Unlock()
	}
	return total
}

// Limit returns the default limit.
func (lim *Limiter) Limit() Limit { return lim.def.Load().limit }

// SetLimit replaces the default limit, for instance to raise it for a
// benchmark. Keys without an override forget their history, so the new
// limit applies from their next request with a full burst (a TAT earned
// under the old interval means nothing under the new one). Keys with an
// override are not affected. It returns an error wrapping ErrInvalidLimit
// and changes nothing if l is invalid.
func (lim *Limiter) SetLimit(l Limit) error {
	if err := l.Validate(); err != nil {
		return err
	}
	lim.def.Store(compile(l))
	for i := range lim.shards {
		s := &lim.shards[i]
		s.mu.Lock()
		if len(s.over) == 0 {
			s.tat = make(map[string]int64)
			s.peak = 0
		} else {
			for k := range s.tat {
				if _, found := s.over[k]; !found {
					delete(s.tat, k)
				}
			}
		}
		s.nextSweep = minSweep
		s.mu.Unlock()
	}
	return nil
}

// Override gives key its own limit instead of the default, for instance a
// market maker's API key with a higher rate; Limit{} makes key unlimited.
// The key's history is forgotten so the new limit applies from its next
// request. Overrides last until ClearOverride, are never pruned and
// survive SetLimit. It returns an error wrapping ErrInvalidLimit and
// changes nothing if l is invalid.
func (lim *Limiter) Override(key string, l Limit) error {
	if err := l.Validate(); err != nil {
		return err
	}
	p := compile(l)
	s := lim.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over == nil {
		s.over = make(map[string]*params)
	}
	if _, found := s.over[key]; !found {
		lim.overrides.Add(1)
	}
	s.over[strings.Clone(key)] = p
	delete(s.tat, key)
	return nil
}

// ClearOverride returns key to the default limit, forgetting its history.
// It does nothing if key has no override.
func (lim *Limiter) ClearOverride(key string) {
	s := lim.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, found := s.over[key]; !found {
		return
	}
	delete(s.over, key)
	lim.overrides.Add(-1)
	delete(s.tat, key)
}

// OverrideFor returns key's override and whether it has one.
func (lim *Limiter) OverrideFor(key string) (Limit, bool) {
	s := lim.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, found := s.over[key]
	if !found {
		return Limit{}, false
	}
	return p.limit, true
}

// RetryAfterSeconds converts a retryAfter from Allow into the value of an
// HTTP Retry-After header: whole seconds, rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) int {
	secs := d / time.Second
	if d%time.Second != 0 {
		secs++
	}
	return int(max(secs, 1))
}
