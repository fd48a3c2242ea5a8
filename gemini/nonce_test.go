package gemini_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex/gemini"
)

// TestMillisNonceSameMillisecond pins the clock: every nonce after the first
// must be bumped by one, with no duplicates, even from many goroutines.
func TestMillisNonceSameMillisecond(t *testing.T) {
	const start = int64(1700000000000)
	ns := gemini.NewMillisNonce(func() time.Time { return time.UnixMilli(start) })
	const workers, per = 16, 500
	results := make([][]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				results[w] = append(results[w], ns.Nonce())
			}
		}()
	}
	wg.Wait()
	var all []int64
	for w, r := range results {
		for i := 1; i < len(r); i++ {
			if r[i] <= r[i-1] {
				t.Fatalf("worker %d: nonce %d after %d", w, r[i], r[i-1])
			}
		}
		all = append(all, r...)
	}
	slices.Sort(all)
	for i, n := range all {
		if n != start+int64(i) {
			t.Fatalf("nonces are not start, start+1, ...: %d at %d", n, i)
		}
	}
}

// TestMillisNonceClock checks that the nonce follows the clock and never
// goes back when the clock does.
func TestMillisNonceClock(t *testing.T) {
	now := time.UnixMilli(1000)
	ns := gemini.NewMillisNonce(func() time.Time { return now })
	if n := ns.Nonce(); n != 1000 {
		t.Fatalf("nonce = %d, want 1000", n)
	}
	now = time.UnixMilli(5000)
	if n := ns.Nonce(); n != 5000 {
		t.Fatalf("nonce = %d, want 5000", n)
	}
	now = time.UnixMilli(2000) // the clock steps back
	if n := ns.Nonce(); n != 5001 {
		t.Fatalf("nonce = %d, want 5001", n)
	}
}

// TestNonceConcurrentCalls sends private calls from many goroutines through
// one client: every nonce the server sees is distinct and, per goroutine,
// increasing. Run with -race.
func TestNonceConcurrentCalls(t *testing.T) {
	f := newFake(t)
	f.on("POST /v1/heartbeat", http.StatusOK, fixOK)
	c := f.client()
	const workers, per = 8, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				if err := c.Heartbeat(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, call := range f.Calls() {
		if !call.SigOK {
			t.Error("signature does not verify")
		}
		n, _ := call.Payload["nonce"].(string)
		if seen[n] {
			t.Errorf("nonce %s sent twice", n)
		}
		seen[n] = true
	}
	if len(seen) != workers*per {
		t.Errorf("%d distinct nonces, want %d", len(seen), workers*per)
	}
}

// TestTimeNonce checks WithTimeNonce: seconds from the clock.
func TestTimeNonce(t *testing.T) {
	f := newFake(t)
	f.on("POST /v1/heartbeat", http.StatusOK, fixOK)
	now := time.Unix(1695066299, 324e6)
	c := f.client(gemini.WithTimeNonce(), gemini.WithClock(func() time.Time { return now }))
	for range 2 { // repeats within a second are what time-based keys allow
		if err := c.Heartbeat(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := f.last(t).Payload["nonce"]; got != "1695066299" {
			t.Errorf("nonce = %#v, want \"1695066299\"", got)
		}
	}
}

// TestCustomNonceSource checks WithNonceSource.
func TestCustomNonceSource(t *testing.T) {
	f := newFake(t)
	f.on("POST /v1/heartbeat", http.StatusOK, fixOK)
	var n int64 = 1515123745863
	c := f.client(gemini.WithNonceSource(gemini.NonceFunc(func() int64 { n++; return n })))
	for want := int64(1515123745864); want < 1515123745867; want++ {
		if err := c.Heartbeat(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := f.last(t).Payload["nonce"]; got != strconv.FormatInt(want, 10) {
			t.Errorf("nonce = %#v, want %d", got, want)
		}
	}
}
