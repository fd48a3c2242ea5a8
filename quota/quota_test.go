package quota_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/sqlite"
)

func openStore(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(dir, "twinex.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestQuotaResetsAtMidnightAndWarnsOnce(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	defer db.Close()
	// A plan small enough to exhaust: pro's allowance is replaced by
	// setting a user's plan and counting down from a seeded usage.
	u := twinex.User{Email: "q@example.com"}
	if _, err := db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	k := twinex.APIKey{ID: "account-q", UserID: u.ID}
	var mu sync.Mutex
	var warned []quota.Usage
	done := make(chan struct{}, 4)
	s := &quota.Service{Store: db, Warn: func(_ twinex.APIKey, u quota.Usage) {
		mu.Lock()
		warned = append(warned, u)
		mu.Unlock()
		done <- struct{}{}
	}}
	now := time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC)
	limit := twinex.FreePlan.DailyRequests
	// Seed the day as if the key had used all but 2 requests before a
	// restart: the rollup is what Load reads.
	seed := make([]twinex.Activity, limit-2)
	for i := range seed {
		seed[i] = twinex.Activity{Time: now.Add(-time.Hour).UnixNano(), KeyID: k.ID, UserID: u.ID, Authenticated: true, Counted: true}
	}
	if err := db.AddActivity(ctx, seed); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, now); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := s.Take(ctx, k, now); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	wait, err := s.Take(ctx, k, now)
	if twinex.ErrorReason(err) != twinex.RateLimit || wait != time.Minute {
		t.Fatalf("over the quota: %v, wait %v", err, wait)
	}
	if u, _ := s.Usage(ctx, k, now); u.Used != limit || u.Percent() != 100 {
		t.Fatalf("usage %+v", u)
	}
	// Seeded past 80%: no warning (it would have been sent before).
	mu.Lock()
	if len(warned) != 0 {
		t.Fatalf("warned %+v", warned)
	}
	mu.Unlock()

	// Midnight UTC resets.
	next := now.Add(time.Minute)
	if _, err := s.Take(ctx, k, next); err != nil {
		t.Fatalf("after midnight: %v", err)
	}
	if u, _ := s.Usage(ctx, k, next); u.Used != 1 || !u.Resets.Equal(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("usage after midnight %+v", u)
	}
	// Counting up to 80% warns exactly once.
	for i := int64(1); i < limit*quota.WarnPercent/100+10; i++ {
		if _, err := s.Take(ctx, k, next); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	time.Sleep(10 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(warned) != 1 || warned[0].Used != limit*quota.WarnPercent/100 || warned[0].Limit != limit {
		t.Fatalf("warnings %+v", warned)
	}
}

func TestPlans(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openStore(t, dir)
	s := &quota.Service{Store: db}
	u := twinex.User{Email: "p@example.com"}
	if _, err := db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Plan(ctx, u.ID); p != twinex.FreePlan {
		t.Fatalf("default plan %+v", p)
	}
	if _, err := s.SetPlan(ctx, u.ID, "platinum"); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("unknown plan: %v", err)
	}
	if _, err := s.SetPlan(ctx, u.ID, "unlimited"); err != nil {
		t.Fatal(err)
	}
	k := twinex.APIKey{ID: "account-p", UserID: u.ID}
	now := time.Now()
	for i := 0; i < 10; i++ {
		if _, err := s.Take(ctx, k, now); err != nil {
			t.Fatal(err)
		}
	}
	if u, _ := s.Usage(ctx, k, now); u.Limit != 0 || u.Used != 10 || u.Percent() != 0 {
		t.Fatalf("unlimited usage %+v", u)
	}
	db.Close()
	db = openStore(t, dir)
	defer db.Close()
	s2 := &quota.Service{Store: db}
	if p, _ := s2.Plan(ctx, u.ID); p != twinex.UnlimitedPlan {
		t.Fatalf("plan after restart %+v", p)
	}
}
