// Package quota enforces plans: each API key of a user may make the plan's
// number of signed requests per UTC day. Counting is in memory on the
// request path (one mutex, no database); Load seeds the day's counts from
// the usage the activity log rolled up, so a restart does not hand out a
// fresh allowance.
package quota

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twinex/twinex"
)

// WarnPercent is the share of the allowance at which the owner is warned.
const WarnPercent = 80

// Service counts keys' requests against their owners' plans. Store is
// required.
type Service struct {
	Store interface {
		twinex.UsageStore
		twinex.PlanStore
	}
	// Warn, when set, is called in its own goroutine once per key and UTC
	// day, when the key's use reaches WarnPercent of its allowance.
	Warn   func(k twinex.APIKey, u Usage)
	Logger *slog.Logger // default: discard

	mu    sync.Mutex
	day   int64            // the UTC day (Unix days) the counts are for
	used  map[string]int64 // key id -> requests counted today
	plans map[int64]twinex.Plan
}

// Usage is a key's use of its allowance.
type Usage struct {
	Plan   twinex.Plan
	Used   int64
	Limit  int64     // 0: unlimited
	Resets time.Time // the next UTC midnight
}

// Percent is Used as a share of Limit (0 when unlimited).
func (u Usage) Percent() int64 {
	if u.Limit <= 0 {
		return 0
	}
	return u.Used * 100 / u.Limit
}

func unixDay(t time.Time) int64 { return t.Unix() / 86400 }

func midnightAfter(t time.Time) time.Time {
	return time.Unix((unixDay(t)+1)*86400, 0).UTC()
}

// Load seeds today's counts from the store's usage rollup.
func (s *Service) Load(ctx context.Context, now time.Time) error {
	day := unixDay(now)
	counts, err := s.Store.CountedSince(ctx, day*1440)
	if err != nil {
		return fmt.Errorf("quota: load: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.day, s.used = day, counts
	return nil
}

// Plan returns a user's plan (the free plan unless an operator assigned
// another).
func (s *Service) Plan(ctx context.Context, userID int64) (twinex.Plan, error) {
	s.mu.Lock()
	p, ok := s.plans[userID]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	name, err := s.Store.UserPlan(ctx, userID)
	if err != nil {
		return twinex.Plan{}, fmt.Errorf("quota: %w", err)
	}
	p, ok = twinex.PlanNamed(name)
	if !ok {
		if name != "" {
			s.log().Warn("quota: unknown plan; using the free plan", "user", userID, "plan", name)
		}
		p = twinex.FreePlan
	}
	s.cachePlan(userID, p)
	return p, nil
}

func (s *Service) cachePlan(userID int64, p twinex.Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.plans == nil {
		s.plans = map[int64]twinex.Plan{}
	}
	s.plans[userID] = p
}

// SetPlan assigns a plan to a user; it applies to the user's next
// request. The error wraps twinex.ErrNotFound for an unknown plan name.
func (s *Service) SetPlan(ctx context.Context, userID int64, name string) (twinex.Plan, error) {
	p, ok := twinex.PlanNamed(name)
	if !ok {
		return twinex.Plan{}, fmt.Errorf("quota: plan %q: %w", name, twinex.ErrNotFound)
	}
	if err := s.Store.SetUserPlan(ctx, userID, p.Name); err != nil {
		return twinex.Plan{}, fmt.Errorf("quota: %w", err)
	}
	s.cachePlan(userID, p)
	return p, nil
}

// Take counts one request of key k at now. When the key's allowance for
// the day is used up it counts nothing and returns a *twinex.Error
// RateLimit naming the limit and when it resets, and how long until then
// (for Retry-After).
func (s *Service) Take(ctx context.Context, k twinex.APIKey, now time.Time) (time.Duration, error) {
	day := unixDay(now)
	// One lock for the plan and the count: every signed request comes
	// here. Only a user's first request reads the plan from the store.
	s.mu.Lock()
	p, ok := s.plans[k.UserID]
	if !ok {
		s.mu.Unlock()
		var err error
		if p, err = s.Plan(ctx, k.UserID); err != nil {
			return 0, err
		}
		s.mu.Lock()
	}
	s.roll(day)
	used := s.used[k.ID]
	if p.DailyRequests > 0 && used >= p.DailyRequests {
		s.mu.Unlock()
		reset := midnightAfter(now)
		return reset.Sub(now), twinex.Errorf(twinex.RateLimit,
			"Daily quota of %d requests for this API key (%s plan) reached; it resets at %s",
			p.DailyRequests, p.Name, reset.Format(time.RFC3339))
	}
	used++
	s.used[k.ID] = used
	s.mu.Unlock()
	if p.DailyRequests > 0 && s.Warn != nil && used == warnAt(p.DailyRequests) {
		go s.Warn(k, Usage{Plan: p, Used: used, Limit: p.DailyRequests, Resets: midnightAfter(now)})
	}
	return 0, nil
}

// warnAt is the first count at or above WarnPercent of limit.
func warnAt(limit int64) int64 {
	n := (limit*WarnPercent + 99) / 100
	return max(n, 1)
}

// roll starts a new day's counts. s.mu is held.
func (s *Service) roll(day int64) {
	if day != s.day || s.used == nil {
		if day < s.day {
			return // a clock stepping back keeps today's counts
		}
		s.day, s.used = day, map[string]int64{}
	}
}

// Usage returns key k's use of its allowance at now.
func (s *Service) Usage(ctx context.Context, k twinex.APIKey, now time.Time) (Usage, error) {
	p, err := s.Plan(ctx, k.UserID)
	if err != nil {
		return Usage{}, err
	}
	s.mu.Lock()
	s.roll(unixDay(now))
	used := s.used[k.ID]
	s.mu.Unlock()
	return Usage{Plan: p, Used: used, Limit: p.DailyRequests, Resets: midnightAfter(now)}, nil
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
