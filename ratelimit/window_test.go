package ratelimit

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	w := &Window{Max: 3, Per: time.Minute}
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := w.Allow("a", t0.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("event %d refused", i)
		}
	}
	ok, wait := w.Allow("a", t0.Add(10*time.Second))
	if ok || wait != 50*time.Second {
		t.Fatalf("fourth event: %v, wait %v; want refused, 50s", ok, wait)
	}
	if !w.Full("a", t0.Add(10*time.Second)) || w.Full("b", t0) {
		t.Fatal("Full")
	}
	// The first event leaves the window after a minute.
	if ok, _ := w.Allow("a", t0.Add(time.Minute)); !ok {
		t.Fatal("refused after the oldest event left the window")
	}
	// Add counts even when full, and keeps the count bounded.
	for range 10 {
		w.Add("b", t0)
	}
	if !w.Full("b", t0) || len(w.seen["b"]) != 3 {
		t.Fatalf("Add: %d events kept", len(w.seen["b"]))
	}
	// Old keys are forgotten.
	w.Full("c", t0.Add(10*time.Minute))
	if len(w.seen) != 0 {
		t.Fatalf("keys left after the window: %v", w.seen)
	}
}

func TestWindowConcurrent(t *testing.T) {
	w := &Window{Max: 50, Per: time.Hour}
	now := time.Unix(1000, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if ok, _ := w.Allow("k", now); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("%d of 160 allowed, want 50", allowed)
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":          "192.0.2.1",
		"::ffff:192.0.2.1":   "192.0.2.1",
		"2001:db8:1:2::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2:ff::9": "2001:db8:1:2::/64",
		"fe80::1%eth0":       "fe80::/64",
	} {
		if got := ClientKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("ClientKey(%s) = %s, want %s", in, got, want)
		}
	}
	if ClientKey(netip.Addr{}) != "" {
		t.Error("zero Addr")
	}
}
