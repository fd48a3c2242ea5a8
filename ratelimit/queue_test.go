package ratelimit

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestTakeQueue: past the allowance, Burst requests are queued with
// delays one interval apart, and the next is refused with the time until
// a request would be admitted at once.
func TestTakeQueue(t *testing.T) {
	for _, tt := range []struct {
		limit  string
		want   int // admitted at once
		queued int
	}{
		{"600/1m+5", 600, 5},
		{"120/1m+5", 120, 5},
		{"1/2s", 1, 0},
		{"4/1s+2", 4, 2},
		{"3/1s+7", 3, 7},
	} {
		l := mustParse(t, tt.limit)
		T := l.Interval()
		lim := New(l)
		for i := range tt.want {
			if d, ok, ra := lim.Take("k", t0); !ok || d != 0 {
				t.Fatalf("%s: request %d = delay %v, ok %v, retryAfter %v; want at once", tt.limit, i+1, d, ok, ra)
			}
		}
		for i := range tt.queued {
			if d, ok, _ := lim.Take("k", t0); !ok || d != time.Duration(i+1)*T {
				t.Fatalf("%s: queued request %d = delay %v, ok %v; want %v", tt.limit, i+1, d, ok, time.Duration(i+1)*T)
			}
		}
		d, ok, ra := lim.Take("k", t0)
		if ok || d != 0 || ra != time.Duration(tt.queued+1)*T {
			t.Errorf("%s: request past the queue = delay %v, ok %v, retryAfter %v; want refused, %v", tt.limit, d, ok, ra, time.Duration(tt.queued+1)*T)
		}
		// Allow never queues: it is refused too, with the same retryAfter.
		if ok, ra2 := lim.Allow("k", t0); ok || ra2 != ra {
			t.Errorf("%s: Allow past the queue = %v, %v", tt.limit, ok, ra2)
		}
		// Once the queue has drained, a request is admitted at once.
		if d, ok, _ := lim.Take("k", t0.Add(ra)); !ok || d != 0 {
			t.Errorf("%s: after retryAfter = delay %v, ok %v; want at once", tt.limit, d, ok)
		}
	}
}

// TestIssueBursts replays the two clients of issue 14 that failed under
// the old limiter: 20 back-to-back signed requests from one key, and a
// public poller at 2 requests a second (Gemini's own recommendation is at
// most 1 a second), both for ten minutes. Neither is delayed.
func TestIssueBursts(t *testing.T) {
	priv := New(GeminiPrivate())
	for i := range 20 {
		if d, ok, _ := priv.Take("key", t0); !ok || d != 0 {
			t.Fatalf("signed request %d: delay %v ok %v", i+1, d, ok)
		}
	}
	pub := New(GeminiPublic())
	for i := range 1200 {
		now := t0.Add(time.Duration(i) * 500 * time.Millisecond)
		if d, ok, _ := pub.Take("10.0.0.1", now); !ok || d != 0 {
			t.Fatalf("public request %d at %v: delay %v ok %v", i+1, now.Sub(t0), d, ok)
		}
	}
}

// TestWithinAllowanceNeverWaits: seeded random clients that never send
// more than Rate requests in any window of length Per (in clumps, at
// random moments) are always admitted at once.
func TestWithinAllowanceNeverWaits(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	for _, s := range []string{"600/1m+5", "120/1m+5", "7/1s", "3/10s+1"} {
		l := mustParse(t, s)
		lim := New(l)
		var sent []int64 // times of the requests sent, ascending
		now := t0.UnixNano()
		for range 20000 {
			now += r.Int64N(int64(l.Per) / int64(l.Rate) * 3)
			// Send as many as the sliding window lets through, up to a clump.
			clump := 1 + r.IntN(max(1, l.Rate/3))
			for range clump {
				lo, _ := slices.BinarySearch(sent, now-int64(l.Per)+1) // window (now-Per, now]
				if len(sent)-lo >= l.Rate {
					break
				}
				if d, ok, ra := lim.Take("k", time.Unix(0, now)); !ok || d != 0 {
					t.Fatalf("%s: a client within the allowance got delay %v ok %v retryAfter %v", s, d, ok, ra)
				}
				sent = append(sent, now)
			}
		}
	}
}

// TestQueueRefill: queued requests are spaced one interval apart from the
// moment the allowance ran out, and the queue frees a place per interval.
func TestQueueRefill(t *testing.T) {
	l := mustParse(t, "10/1s+5") // T = 100ms
	lim := New(l)
	for range 10 {
		lim.Take("k", t0)
	}
	for i := range 5 {
		if d, _, _ := lim.Take("k", t0); d != time.Duration(i+1)*100*time.Millisecond {
			t.Fatalf("queued %d: delay %v", i, d)
		}
	}
	// 250ms later, two places in the queue have come back.
	now := t0.Add(250 * time.Millisecond)
	for i := range 2 {
		if d, ok, _ := lim.Take("k", now); !ok || d != 350*time.Millisecond+time.Duration(i)*100*time.Millisecond {
			t.Fatalf("refilled place %d: delay %v ok %v", i, d, ok)
		}
	}
	if _, ok, ra := lim.Take("k", now); ok || ra != 550*time.Millisecond { // TAT 1.7s, allowance 0.9s
		t.Fatalf("third request at 250ms: ok %v retryAfter %v", ok, ra)
	}
	// After a full idle period, the whole allowance is back.
	now = now.Add(2 * time.Second)
	for i := range 10 {
		if d, ok, _ := lim.Take("k", now); !ok || d != 0 {
			t.Fatalf("after idling, request %d: delay %v ok %v", i, d, ok)
		}
	}
}

// TestConcurrentTake: many goroutines on one key at one instant get
// exactly Rate admissions at once and Burst queued between them, the
// queued ones with the distinct delays T, 2T, ... BurstT.
func TestConcurrentTake(t *testing.T) {
	l := GeminiPublic()
	lim := New(l)
	var mu sync.Mutex
	var atOnce, refused int
	var delays []time.Duration
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 50 {
				d, ok, _ := lim.Take("k", t0)
				mu.Lock()
				switch {
				case !ok:
					refused++
				case d == 0:
					atOnce++
				default:
					delays = append(delays, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(delays)
	want := []time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second, 2500 * time.Millisecond}
	if atOnce != l.Rate || !slices.Equal(delays, want) || refused != 32*50-l.Rate-l.Burst {
		t.Fatalf("at once %d, queued %v, refused %d", atOnce, delays, refused)
	}
}

func TestTakeUnlimited(t *testing.T) {
	lim := New(Limit{})
	for range 1000 {
		if d, ok, _ := lim.Take("k", t0); !ok || d != 0 {
			t.Fatal("unlimited Take delayed or refused")
		}
	}
}

// TestQueueDelayBounded: a slow limit queues only as many requests as fit
// in MaxQueueDelay.
func TestQueueDelayBounded(t *testing.T) {
	lim := New(mustParse(t, "60/1h+5")) // one a minute: the 1st queued would wait a minute
	for range 60 {
		lim.Take("k", t0)
	}
	if d, ok, _ := lim.Take("k", t0); ok {
		t.Fatalf("queued for %v, beyond MaxQueueDelay", d)
	}
	lim = New(mustParse(t, "600/1m+200")) // 0.1s each: 100 fit in 10s
	for range 600 {
		lim.Take("k", t0)
	}
	n := 0
	for {
		d, ok, _ := lim.Take("k", t0)
		if !ok {
			break
		}
		if d > MaxQueueDelay {
			t.Fatalf("queued for %v", d)
		}
		n++
	}
	if n != 100 {
		t.Fatalf("%d queued, want 100", n)
	}
}
