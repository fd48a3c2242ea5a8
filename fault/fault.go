// Package fault makes a sandbox exchange misbehave on purpose, so that
// clients can test how they cope with rate limits, maintenance windows,
// rejected nonces, slow answers and lost heartbeats before they meet them
// on the real exchange.
//
// An Injector holds rules; the HTTP layer asks it, once per request,
// whether a rule fires (Match) and applies the returned Effect. The package
// knows nothing of HTTP: it decides, the API layer acts. A production server
// has no Injector at all.
package fault

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/twinex/twinex"
)

// ErrInvalid is wrapped by the errors of Add and LoadFile for a rule that
// makes no sense; the message says why.
var ErrInvalid = errors.New("invalid fault rule")

// MaxLatency bounds a rule's added latency: a longer delay would outlive
// the server's write timeout and any client's patience, and would only hold
// a goroutine.
const MaxLatency = time.Minute

// Rule says how requests misbehave.
type Rule struct {
	// ID names the rule for Remove; Add assigns "f1", "f2", ... when empty.
	ID string
	// Key limits the rule to one API key's signed requests; "" is every
	// signed request (and, with Public, every public one).
	Key string
	// Error is the Gemini reason to answer with instead of running the
	// request: "" (none), "RateLimit", "Maintenance" or "InvalidNonce".
	Error string
	// Count is how many more faults the rule injects before it is removed;
	// 0 is unlimited. A request the Probability spares does not count.
	Count int
	// Probability is the chance that a matching request gets the fault; 0
	// and 1 both mean always.
	Probability float64
	// Latency is added before the request is answered (at most MaxLatency).
	Latency time.Duration
	// ExpireHeartbeat expires the key's heartbeat now: the session's orders
	// are cancelled as if the key had gone silent.
	ExpireHeartbeat bool
	// Public makes a rule without a Key apply to public endpoints too.
	// Such a rule may not inject InvalidNonce or ExpireHeartbeat, which
	// only mean something for a signed request.
	Public bool
	// From and Until bound when the rule applies: from From (inclusive)
	// until Until (exclusive); a zero time is no bound. A rule past its
	// Until is removed. A public Maintenance rule with both is a
	// scheduled maintenance window: every API request in it gets 503
	// Maintenance, as on Gemini's sandbox.
	From, Until time.Time

	// Socket faults, for the WebSocket feeds. They apply to the order-event
	// sockets of Key (every key's when empty) and, with Public, to the
	// market-data sockets; they do not touch requests. A rule with only
	// socket faults is never returned by Match.
	//
	// DropSockets closes the sockets now (the API acts when the rule is
	// added; it is not kept). FrameDelay holds each write to the sockets
	// for that long (at most MaxLatency). StopHeartbeats stops their
	// heartbeat messages while the rule is in place.
	DropSockets    bool
	FrameDelay     time.Duration
	StopHeartbeats bool
}

// socketOnly reports whether the rule has no request fault.
func (r *Rule) socketOnly() bool {
	return r.Error == "" && r.Latency == 0 && !r.ExpireHeartbeat
}

// SocketEffect is what the sockets of one key (or the public ones) suffer.
type SocketEffect struct {
	FrameDelay     time.Duration
	StopHeartbeats bool
}

// Socket returns the socket faults in place for the order-event sockets
// of key, or for the public sockets when key is "": the longest frame
// delay among the applying rules, and whether any stops heartbeats.
func (in *Injector) Socket(key string) SocketEffect {
	t := in.now()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.expire(t) // a rule's window applies to sockets as to requests
	var e SocketEffect
	for i := range in.rules {
		r := &in.rules[i]
		if (key == "" && !r.Public) || (key != "" && r.Key != "" && r.Key != key) || (key == "" && r.Key != "") {
			continue
		}
		if !r.From.IsZero() && t.Before(r.From) {
			continue
		}
		e.FrameDelay = max(e.FrameDelay, r.FrameDelay)
		e.StopHeartbeats = e.StopHeartbeats || r.StopHeartbeats
	}
	return e
}

// Effect is what a request that matched a rule must suffer.
type Effect struct {
	RuleID          string
	Error           string // a Gemini reason, or "" for none
	Latency         time.Duration
	ExpireHeartbeat bool
}

// Event is one injected fault, as reported to Injector.OnInject.
type Event struct {
	Time   time.Time
	Key    string // the API key, or "" for a public request
	Method string
	Path   string
	Effect
}

// Injector holds the rules and decides which request gets which fault. It
// is safe for concurrent use.
type Injector struct {
	// OnInject, when set, is called by the API layer for every injected
	// fault, after logging it: the hook an activity log uses to mark the
	// request. Set it before the injector serves requests.
	OnInject func(Event)
	// Now is the clock rules' From and Until are compared with (default
	// time.Now). Set it before the injector serves requests.
	Now func() time.Time

	mu    sync.Mutex
	rules []Rule
	next  int // the last assigned "f<n>"
	rng   *rand.Rand
}

// New returns an empty Injector whose probabilities are drawn from a PRNG
// seeded with seed, so that a run can be replayed.
func New(seed uint64) *Injector {
	return &Injector{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Validate reports, wrapping ErrInvalid, what makes r unusable. The ID is
// not checked here (Add does, against the other rules).
func (r Rule) Validate() error {
	switch r.Error {
	case "", twinex.RateLimit, twinex.Maintenance, twinex.InvalidNonce:
	default:
		return invalid("unknown error %q: use RateLimit, Maintenance or InvalidNonce", r.Error)
	}
	switch {
	case r.Count < 0:
		return invalid("count must not be negative")
	case math.IsNaN(r.Probability) || r.Probability < 0 || r.Probability > 1:
		return invalid("probability must be between 0 and 1")
	case r.Latency < 0:
		return invalid("latency must not be negative")
	case r.Latency > MaxLatency:
		return invalid("latency must be at most %s", MaxLatency)
	case r.FrameDelay < 0 || r.FrameDelay > MaxLatency:
		return invalid("frame_delay must be between 0 and %s", MaxLatency)
	case r.DropSockets && r.Key == "" && !r.Public:
		return invalid("drop_sockets needs a key (or public, for the market-data sockets)")
	case r.socketOnly() && !r.DropSockets && r.FrameDelay == 0 && !r.StopHeartbeats:
		return invalid("the rule does nothing: give an error, a latency, expire_heartbeat, drop_sockets, frame_delay or stop_heartbeats")
	case r.Public && r.Key != "":
		return invalid("public endpoints have no key: a public rule cannot name one")
	case r.Public && (r.Error == twinex.InvalidNonce || r.ExpireHeartbeat):
		return invalid("InvalidNonce and expire_heartbeat only apply to signed requests, not public ones")
	case !r.From.IsZero() && !r.Until.IsZero() && !r.Until.After(r.From):
		return invalid("until must be after from")
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func invalidID(id string) error {
	return invalid("id %q must be 1 to 64 letters, digits, '.', '-' or '_'", id)
}

// validID reports whether id is 1 to 64 letters, digits, '.', '-' or '_':
// safe in a URL path and a log line.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Add validates r and appends it after the existing rules, assigning an ID
// if it has none. It returns the rule as stored, or an error wrapping
// ErrInvalid (also for an ID already in use).
func (in *Injector) Add(r Rule) (Rule, error) {
	if err := r.Validate(); err != nil {
		return Rule{}, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if r.ID == "" {
		for r.ID == "" || in.index(r.ID) >= 0 {
			in.next++
			r.ID = "f" + strconv.Itoa(in.next)
		}
	} else if !validID(r.ID) {
		return Rule{}, invalidID(r.ID)
	} else if in.index(r.ID) >= 0 {
		return Rule{}, invalid("a rule with id %q exists", r.ID)
	}
	in.rules = append(in.rules, r)
	return r, nil
}

func (in *Injector) index(id string) int {
	for i := range in.rules {
		if in.rules[i].ID == id {
			return i
		}
	}
	return -1
}

// Clear removes every rule.
func (in *Injector) Clear() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = nil
}

// Remove removes the rule with the given ID and returns it; false if there
// is none.
func (in *Injector) Remove(id string) (Rule, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	i := in.index(id)
	if i < 0 {
		return Rule{}, false
	}
	r := in.rules[i]
	in.rules = append(in.rules[:i:i], in.rules[i+1:]...)
	return r, true
}

// List returns the rules in the order they are tried, each with its
// remaining Count.
func (in *Injector) List() []Rule {
	t := in.now()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.expire(t)
	return append([]Rule{}, in.rules...)
}

// Match decides whether a request gets a fault. key is the API key of a
// signed request ("" for none); public says the request is to a public
// endpoint. The rules are tried in order: a rule applies to a signed
// request if it has no Key or the request's, and to a public request if it
// is Public; an applying rule fires with its Probability, and the first
// that fires gives the Effect. Firing spends one of the rule's Count; the
// rule that spends its last is removed.
func (in *Injector) Match(key string, public bool) (Effect, bool) {
	t := in.now()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.expire(t)
	for i := range in.rules {
		r := &in.rules[i]
		if r.socketOnly() || !r.applies(key, public) || (!r.From.IsZero() && t.Before(r.From)) || !in.fires(r.Probability) {
			continue
		}
		e := Effect{RuleID: r.ID, Error: r.Error, Latency: r.Latency, ExpireHeartbeat: r.ExpireHeartbeat}
		if r.Count > 0 {
			r.Count--
			if r.Count == 0 {
				in.rules = append(in.rules[:i:i], in.rules[i+1:]...)
			}
		}
		return e, true
	}
	return Effect{}, false
}

func (in *Injector) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// expire removes the rules whose Until has passed. The caller holds mu.
func (in *Injector) expire(t time.Time) {
	kept := in.rules[:0]
	for _, r := range in.rules {
		if r.Until.IsZero() || t.Before(r.Until) {
			kept = append(kept, r)
		}
	}
	clear(in.rules[len(kept):])
	in.rules = kept
}

func (r *Rule) applies(key string, public bool) bool {
	if public {
		return r.Public && r.Key == ""
	}
	return r.Key == "" || r.Key == key
}

// fires draws against p. Rules that always fire draw nothing, so adding
// one does not shift the random stream of the others.
func (in *Injector) fires(p float64) bool {
	if p == 0 || p >= 1 {
		return true
	}
	return in.rng.Float64() < p
}
