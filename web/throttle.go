package web

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Login throttling: maxEmailFailures failed logins for one email, or
// maxIPFailures from one address, within throttleWindow lock that email
// (address) for lockDuration from the failure that reached the limit.
// While locked, attempts are refused without checking the password and are
// not recorded, so a lock ends on time however hard it is hammered; the
// page offers the password reset, whose success lifts the email's lock (it
// records a successful attempt). A successful login clears an email's
// failures; an address's failures are not cleared by success, so that an
// attacker cannot reset their count by logging into an account of their
// own. Attempts for emails without an account count the same, so a lock
// says nothing about whether an account exists.
const (
	maxEmailFailures = 5
	maxIPFailures    = 20
	throttleWindow   = 15 * time.Minute
	lockDuration     = 15 * time.Minute
)

// throttle checks the lock on an attempt for email from ip, like
// lockedUntil, and holds the attempt's turn until release is called (right
// after the attempt is recorded; calling it again does nothing): parallel
// guesses for one email or from one address take turns, so none passes the
// check before the failures ahead of it are recorded, and a burst cannot
// overshoot the limits. A request that ends while waiting gets ctx's error.
func (s *Server) throttle(ctx context.Context, email, ip string, now time.Time) (until time.Time, release func(), err error) {
	release, err = s.turns.take(ctx, "email:"+email, "ip:"+ip)
	if err != nil {
		return time.Time{}, func() {}, err
	}
	until, err = s.lockedUntil(ctx, email, ip, now)
	return until, release, err
}

// turns serialises attempts per throttle key (see Server.throttle).
type turns struct {
	mu sync.Mutex
	m  map[string]*turn
}

type turn struct {
	slot  chan struct{} // holds a token while the turn is taken
	users int           // holders and waiters; the entry goes when none remain
}

// take takes the turns of keys, in a fixed order so that two attempts
// sharing keys cannot deadlock, and returns their release.
func (t *turns) take(ctx context.Context, keys ...string) (func(), error) {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	entries := make([]*turn, len(keys))
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]*turn{}
	}
	for i, k := range keys {
		e := t.m[k]
		if e == nil {
			e = &turn{slot: make(chan struct{}, 1)}
			t.m[k] = e
		}
		e.users++
		entries[i] = e
	}
	t.mu.Unlock()
	held := 0
	var once sync.Once
	release := func() {
		once.Do(func() {
			for i := held - 1; i >= 0; i-- {
				<-entries[i].slot
			}
			t.mu.Lock()
			for i, e := range entries {
				if e.users--; e.users == 0 {
					delete(t.m, keys[i])
				}
			}
			t.mu.Unlock()
		})
	}
	for _, e := range entries {
		select {
		case e.slot <- struct{}{}:
			held++
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}

// lockedUntil returns when the lock on a login for email from ip ends, or
// the zero time when there is none. Callers that go on to record an
// attempt use throttle instead.
func (s *Server) lockedUntil(ctx context.Context, email, ip string, now time.Time) (time.Time, error) {
	since := now.Add(-throttleWindow - lockDuration).UnixNano()
	attempts, err := s.Store.LoginAttempts(ctx, email, ip, since)
	if err != nil {
		return time.Time{}, err
	}
	var byEmail, byIP []int64
	for _, a := range attempts {
		if a.Email == email {
			if a.OK {
				byEmail = byEmail[:0]
			} else {
				byEmail = append(byEmail, a.Time)
			}
		}
		if a.IP == ip && !a.OK {
			byIP = append(byIP, a.Time)
		}
	}
	until := max(lockEnd(byEmail, maxEmailFailures), lockEnd(byIP, maxIPFailures))
	if until <= now.UnixNano() {
		return time.Time{}, nil
	}
	return time.Unix(0, until), nil
}

// lockEnd returns the end of the latest lock that failures (ascending
// times) caused: limit of them within throttleWindow lock until
// lockDuration after the last of them. 0 when there is none.
func lockEnd(failures []int64, limit int) int64 {
	var end int64
	for i := limit - 1; i < len(failures); i++ {
		if failures[i]-failures[i-limit+1] <= int64(throttleWindow) {
			end = max(end, failures[i]+int64(lockDuration))
		}
	}
	return end
}
