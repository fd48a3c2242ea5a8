package web

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestTurns: attempts sharing a key take turns, a waiter whose request
// ends gives up, releasing twice is harmless, and nothing is left behind.
func TestTurns(t *testing.T) {
	var tr turns
	ctx := context.Background()
	keys := []string{"ip:b", "email:a"}
	rel, err := tr.take(ctx, keys...)
	if err != nil {
		t.Fatal(err)
	}
	if keys[0] != "ip:b" {
		t.Fatal("take reordered the caller's keys")
	}
	// A second attempt on one of the keys waits; its request ends.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := tr.take(cctx, "email:a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting on a taken turn: %v", err)
	}
	// Another key is free meanwhile.
	other, err := tr.take(ctx, "email:c")
	if err != nil {
		t.Fatal(err)
	}
	other()
	got := make(chan struct{})
	go func() {
		r, err := tr.take(ctx, "ip:b")
		if err == nil {
			r()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("took a turn that is held")
	case <-time.After(20 * time.Millisecond):
	}
	rel()
	rel()
	<-got
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.m) != 0 {
		t.Fatalf("turns left behind: %v", tr.m)
	}
}
