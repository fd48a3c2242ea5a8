package ratelimit

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// t0 is the pinned clock's origin. Any fixed instant will do; the zero
// time.Time will not (UnixNano is undefined for it).
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mustParse(t testing.TB, s string) Limit {
	t.Helper()
	l, err := ParseLimit(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestAllowanceAtOnce: a fresh key gets its whole allowance, Rate
// requests, at one instant, and the next is told to wait exactly one
// interval.
func TestAllowanceAtOnce(t *testing.T) {
	for _, s := range []string{"600/1m+5", "120/1m+5", "1/2s", "1/5s", "10/1s+0", "4/1s+2", "3/1s+7"} {
		l := mustParse(t, s)
		lim := New(l)
		for i := range l.Rate {
			if ok, ra := lim.Allow("k", t0); !ok {
				t.Fatalf("%s: request %d rejected (retryAfter %v)", s, i+1, ra)
			}
		}
		ok, ra := lim.Allow("k", t0)
		if ok || ra != l.Interval() {
			t.Errorf("%s: request %d = %v, %v; want rejected, %v", s, l.Rate+1, ok, ra, l.Interval())
		}
	}
}

// TestAdmissionCount hammers one key far faster than its rate and checks
// that the number admitted at once in [t0, t0+d] is exactly
// Rate+floor(d/T), and 2*Rate-1 in the half-open window of one period.
func TestAdmissionCount(t *testing.T) {
	for _, s := range []string{"600/1m+5", "120/1m+5", "1/2s", "1/5s", "10/1s+0", "4/1s+2"} {
		l := mustParse(t, s)
		T := l.Interval()
		step := T / 50
		lim := New(l)
		admitted := 0
		for now := time.Duration(0); now <= 3*l.Per; now += step {
			// More requests per step than the burst: it is spent at once.
			for range l.Rate + 2 {
				if ok, _ := lim.Allow("k", t0.Add(now)); ok {
					admitted++
				}
			}
			if now == l.Per-step && admitted != 2*l.Rate-1 {
				t.Errorf("%s: %d admitted in [0, Per), want 2*Rate-1 = %d", s, admitted, 2*l.Rate-1)
			}
			if want := l.Rate + int(now/T); admitted != want {
				t.Fatalf("%s: %d admitted in [0, %v], want %d", s, admitted, now, want)
			}
		}
	}
}

// TestRefill: after spending the allowance, it comes back at one request
// per interval, and a full idle period restores all of it.
func TestRefill(t *testing.T) {
	l := GeminiPrivate() // T = 100ms, allowance 600
	lim := New(l)
	for range 600 {
		lim.Allow("k", t0)
	}
	now := t0.Add(250 * time.Millisecond) // 2.5 intervals: 2 requests back
	for i := range 2 {
		if ok, _ := lim.Allow("k", now); !ok {
			t.Fatalf("refill request %d rejected", i)
		}
	}
	if ok, ra := lim.Allow("k", now); ok || ra != 50*time.Millisecond {
		t.Fatalf("third request after 250ms = %v, %v; want rejected, 50ms", ok, ra)
	}
	now = now.Add(time.Hour)
	n := 0
	for {
		if ok, _ := lim.Allow("k", now); !ok {
			break
		}
		n++
	}
	if n != l.Rate {
		t.Fatalf("after idling, %d admitted at once, want %d", n, l.Rate)
	}
}

// TestRetryAfterExact: retrying after retryAfter succeeds, 1ns earlier
// fails, over a seeded random stream.
func TestRetryAfterExact(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for _, s := range []string{"600/1m+5", "1/2s", "3/1s+2", "7/1s"} {
		l := mustParse(t, s)
		lim := New(l)
		now := t0
		for range 5000 {
			now = now.Add(time.Duration(r.Int64N(int64(l.Interval()))) / 3)
			ok, ra := lim.Allow("k", now)
			if ok {
				if ra != 0 {
					t.Fatalf("%s: admitted with retryAfter %v", s, ra)
				}
				continue
			}
			if ra <= 0 || ra > l.Interval() {
				t.Fatalf("%s: rejected with retryAfter %v, want in (0, %v]", s, ra, l.Interval())
			}
			if ok, ra2 := lim.Allow("k", now.Add(ra-1)); ok || ra2 != 1 {
				t.Fatalf("%s: retry 1ns early = %v, %v; want rejected, 1ns", s, ok, ra2)
			}
			now = now.Add(ra)
			if ok, ra2 := lim.Allow("k", now); !ok {
				t.Fatalf("%s: retry after %v rejected again (%v)", s, ra, ra2)
			}
		}
	}
}

// bucket is a naive token bucket with exact integer arithmetic, the
// reference GCRA must agree with: capacity Rate tokens, Rate tokens per
// Per; with the queue, the level may go down to -Burst tokens, and a
// request taken below zero waits until the level is back at zero. Levels
// are kept in units of 1/Per token·ns so nothing rounds.
type bucket struct {
	level, last int64 // level: tokens × Per
	seen        bool
}

func (b *bucket) take(l Limit, now int64, queue bool) (delay time.Duration, ok bool, retryAfter time.Duration) {
	per, capacity, rate := int64(l.Per), int64(l.Rate)*int64(l.Per), int64(l.Rate)
	if !b.seen {
		b.level, b.seen = capacity, true
	} else {
		b.level = min(capacity, b.level+(now-b.last)*rate)
	}
	b.last = now
	floor := int64(0)
	if queue {
		floor = -int64(l.Burst) * per
	}
	if b.level-per >= floor {
		b.level -= per
		if b.level >= 0 {
			return 0, true, 0
		}
		return time.Duration((-b.level + rate - 1) / rate), true, 0
	}
	deficit := per - b.level
	return 0, false, time.Duration((deficit + rate - 1) / rate)
}

// TestAgainstReference feeds the limiter and a naive token bucket the
// same seeded random stream over several keys, comparing every decision
// and retryAfter. Pruning at random moments must not change anything.
func TestAgainstReference(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	// Per is a multiple of Rate so that Interval is exact.
	for _, s := range []string{"600/1m+5", "120/1m+5", "1/2s", "4/1s+2", "10/1s+0", "2/1s+20"} {
		l := mustParse(t, s)
		lim := New(l)
		ref := map[string]*bucket{}
		now := t0.UnixNano()
		for i := range 20000 {
			switch r.IntN(10) {
			case 0: // a long pause
				now += r.Int64N(int64(l.Per))
			case 1, 2, 3: // simultaneous
			default:
				now += r.Int64N(int64(l.Interval()))
			}
			if r.IntN(500) == 0 {
				lim.Prune(time.Unix(0, now))
			}
			key := "k" + strconv.Itoa(r.IntN(4))
			b := ref[key]
			if b == nil {
				b = &bucket{}
				ref[key] = b
			}
			queue := r.IntN(2) == 0
			wantDelay, wantOK, wantRA := b.take(l, now, queue)
			var delay, ra time.Duration
			var ok bool
			if queue {
				delay, ok, ra = lim.Take(key, time.Unix(0, now))
			} else {
				ok, ra = lim.Allow(key, time.Unix(0, now))
			}
			if ok != wantOK || ra != wantRA || delay != wantDelay {
				t.Fatalf("%s step %d key %s queue %v: got %v, %v, %v; reference %v, %v, %v", s, i, key, queue, delay, ok, ra, wantDelay, wantOK, wantRA)
			}
		}
	}
}

func TestKeysIndependent(t *testing.T) {
	lim := New(Limit{Rate: 2, Per: time.Second, Burst: 1})
	for i := range 1000 {
		key := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		for j := range 2 {
			if ok, _ := lim.Allow(key, t0); !ok {
				t.Fatalf("key %s request %d rejected", key, j)
			}
		}
		if ok, _ := lim.Allow(key, t0); ok {
			t.Fatalf("key %s: third request admitted", key)
		}
	}
	if n := lim.Len(); n != 1000 {
		t.Errorf("Len = %d, want 1000", n)
	}
}

func TestOverride(t *testing.T) {
	lim := New(Limit{Rate: 1, Per: time.Second})
	if err := lim.Override("mm", mustParse(t, "100/1s+9")); err != nil {
		t.Fatal(err)
	}
	count := func(key string, now time.Time) int {
		n := 0
		for range 1000 {
			if ok, _ := lim.Allow(key, now); ok {
				n++
			}
		}
		return n
	}
	if n := count("mm", t0); n != 100 {
		t.Errorf("overridden key: %d admitted at once, want 100", n)
	}
	if n := count("other", t0); n != 1 {
		t.Errorf("default key: %d admitted at once, want 1", n)
	}
	if l, ok := lim.OverrideFor("mm"); !ok || l != mustParse(t, "100/1s+9") {
		t.Errorf("OverrideFor = %v, %v", l, ok)
	}
	// Changing the override forgets the history.
	if err := lim.Override("mm", Limit{}); err != nil {
		t.Fatal(err)
	}
	if n := count("mm", t0); n != 1000 {
		t.Errorf("unlimited override: %d admitted, want 1000", n)
	}
	if lim.Len() != 1 { // "other"; unlimited keys hold no state
		t.Errorf("Len = %d, want 1", lim.Len())
	}
	lim.ClearOverride("mm")
	lim.ClearOverride("mm") // no-op
	lim.ClearOverride("never")
	if _, ok := lim.OverrideFor("mm"); ok {
		t.Error("override still present after ClearOverride")
	}
	if n := count("mm", t0); n != 1 {
		t.Errorf("cleared key: %d admitted, want 1", n)
	}
	if err := lim.Override("x", Limit{Rate: 1}); !errors.Is(err, ErrInvalidLimit) {
		t.Errorf("Override with Per 0 = %v, want ErrInvalidLimit", err)
	}
	if _, ok := lim.OverrideFor("x"); ok {
		t.Error("invalid override was stored")
	}
}

// TestOverrideOnUnlimitedDefault: an unlimited default must still honour
// a limited override (the fast path checks the override count).
func TestOverrideOnUnlimitedDefault(t *testing.T) {
	lim := New(Limit{})
	if err := lim.Override("abuser", Limit{Rate: 1, Per: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := lim.Allow("abuser", t0); !ok {
		t.Fatal("first request rejected")
	}
	if ok, ra := lim.Allow("abuser", t0); ok || ra != time.Minute {
		t.Fatalf("second request = %v, %v; want rejected, 1m", ok, ra)
	}
	if ok, _ := lim.Allow("someone", t0); !ok {
		t.Fatal("unlimited default rejected")
	}
	lim.ClearOverride("abuser")
	if ok, _ := lim.Allow("abuser", t0); !ok {
		t.Fatal("cleared key rejected under unlimited default")
	}
}

func TestSetLimit(t *testing.T) {
	lim := New(Limit{Rate: 1, Per: time.Minute})
	if err := lim.Override("vip", Limit{Rate: 2, Per: time.Minute}); err != nil {
		t.Fatal(err)
	}
	lim.Allow("a", t0)
	lim.Allow("vip", t0)
	lim.Allow("vip", t0)
	if ok, _ := lim.Allow("a", t0); ok {
		t.Fatal("second request under 1/1m admitted")
	}
	if err := lim.SetLimit(mustParse(t, "1000/1s+99")); err != nil {
		t.Fatal(err)
	}
	if lim.Limit() != mustParse(t, "1000/1s+99") {
		t.Errorf("Limit() = %v", lim.Limit())
	}
	for i := range 1000 {
		if ok, ra := lim.Allow("a", t0); !ok {
			t.Fatalf("after raising, request %d rejected (%v)", i, ra)
		}
	}
	if ok, _ := lim.Allow("a", t0); ok {
		t.Fatal("request 1001 admitted at once under 1000/1s+99")
	}
	// The override and its spent budget are untouched.
	if ok, ra := lim.Allow("vip", t0); ok || ra != 30*time.Second {
		t.Fatalf("vip after SetLimit = %v, %v; want rejected, 30s", ok, ra)
	}
	if err := lim.SetLimit(Limit{}); err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if ok, _ := lim.Allow("a", t0); !ok {
			t.Fatal("rejected after SetLimit(off)")
		}
	}
	if err := lim.SetLimit(Limit{Rate: -1}); !errors.Is(err, ErrInvalidLimit) {
		t.Errorf("SetLimit(invalid) = %v", err)
	}
	if !lim.Limit().Unlimited() {
		t.Error("invalid SetLimit changed the limit")
	}
}

func TestNewPanicsOnInvalid(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(invalid) did not panic")
		}
	}()
	New(Limit{Rate: 5})
}

func TestUnlimited(t *testing.T) {
	for _, s := range []string{"off", "0"} {
		lim := New(mustParse(t, s))
		for i := range 100000 {
			if ok, ra := lim.Allow(strconv.Itoa(i%5000), t0); !ok || ra != 0 {
				t.Fatalf("%s: rejected (%v)", s, ra)
			}
		}
		if lim.Len() != 0 {
			t.Errorf("%s: unlimited limiter tracks %d keys", s, lim.Len())
		}
	}
}

// TestPrune: idle keys go, active ones stay, and decisions on the active
// keys are unchanged.
func TestPrune(t *testing.T) {
	l := mustParse(t, "6/3s") // T = 500ms: a key is idle 3s after its last request
	lim := New(l)
	for i := range 10000 {
		lim.Allow("idle"+strconv.Itoa(i), t0)
	}
	for range 6 {
		lim.Allow("active", t0.Add(2*time.Second))
	}
	if n := lim.Len(); n != 10001 {
		t.Fatalf("Len = %d", n)
	}
	if n := lim.Prune(t0.Add(499 * time.Millisecond)); n != 0 {
		t.Fatalf("pruned %d keys that are not idle yet", n)
	}
	now := t0.Add(2500 * time.Millisecond)
	if n := lim.Prune(now); n != 10000 {
		t.Fatalf("Prune removed %d keys, want 10000", n)
	}
	if n := lim.Len(); n != 1 {
		t.Fatalf("after Prune, Len = %d, want 1", n)
	}
	// "active" spent its allowance at 2s (TAT 5s); by 2.5s one interval
	// has come back, and then it waits a full interval, as if never pruned.
	if ok, ra := lim.Allow("active", now); !ok {
		t.Fatalf("active key after Prune rejected (%v)", ra)
	}
	if ok, ra := lim.Allow("active", now); ok || ra != 500*time.Millisecond {
		t.Fatalf("active key after Prune = %v, %v; want rejected, 500ms", ok, ra)
	}
	if n := lim.Prune(t0.Add(time.Hour)); n != 1 || lim.Len() != 0 {
		t.Fatalf("final Prune removed %d, Len %d", n, lim.Len())
	}
}

// TestBoundedUnderFlood: a flood of distinct keys (a botnet of IPs), each
// sending once, keeps the map near the number of keys still inside their
// window thanks to the sweep in Allow, with no Prune.
func TestBoundedUnderFlood(t *testing.T) {
	l := Limit{Rate: 1, Per: time.Second, Burst: 1} // one request: a key lives 1s
	lim := New(l)
	now := t0
	const perMs = 20 // 20 new keys per ms: 20000 live at any time
	for i := range 1_000_000 {
		if i%perMs == 0 {
			now = now.Add(time.Millisecond)
		}
		lim.Allow(strconv.Itoa(i), now)
	}
	live := 1000 * perMs
	if n := lim.Len(); n > 3*live {
		t.Fatalf("Len = %d after a flood with %d live keys", n, live)
	}
	t.Logf("Len %d, live %d", lim.Len(), live)
}

// TestPruneGivesMemoryBack: after a flood stops, Prune rebuilds the
// shards' maps (Go maps keep their buckets after deletes).
func TestPruneGivesMemoryBack(t *testing.T) {
	lim := New(GeminiPublic())
	for i := range 200_000 {
		lim.Allow(strconv.Itoa(i), t0)
	}
	lim.Allow("stays", t0.Add(time.Minute))
	if n := lim.Prune(t0.Add(time.Minute)); n != 200_000 {
		t.Fatalf("Prune removed %d", n)
	}
	for i := range lim.shards {
		s := &lim.shards[i]
		if s.peak > 1 {
			t.Errorf("shard %d: peak %d after Prune, want the map rebuilt", i, s.peak)
		}
	}
	if ok, _ := lim.Allow("stays", t0.Add(time.Minute)); !ok {
		t.Error("kept key lost its budget")
	}
	if lim.Len() != 1 {
		t.Errorf("Len = %d", lim.Len())
	}
}

// TestAbsurdLimits: huge periods, allowances and queues saturate instead
// of overflowing into admitting everything.
func TestAbsurdLimits(t *testing.T) {
	lim := New(Limit{Rate: 1, Per: time.Duration(1<<63 - 1), Burst: 1 << 40})
	if _, ok, _ := lim.Take("k", t0); !ok {
		t.Fatal("first request refused")
	}
	// The queue would wait for ages: MaxQueueDelay refuses it.
	if d, ok, _ := lim.Take("k", t0); ok {
		t.Fatalf("second request queued for %v under a huge period", d)
	}
	lim = New(Limit{Rate: 1 << 40, Per: time.Duration(1<<63 - 1), Burst: 1 << 40})
	for i := range 100 {
		if ok, _ := lim.Allow("k", t0); !ok {
			t.Fatalf("request %d rejected under a huge allowance", i)
		}
	}
	lim = New(Limit{Rate: 1, Per: time.Duration(1<<63 - 1)})
	if ok, _ := lim.Allow("k", t0); !ok {
		t.Fatal("first request rejected")
	}
	if ok, ra := lim.Allow("k", t0.Add(100*365*24*time.Hour)); ok || ra <= 0 {
		t.Fatalf("second request within the period = %v, %v", ok, ra)
	}
}

// TestConcurrentSameInstant: many goroutines on one key at one instant
// get exactly Rate admissions between them.
func TestConcurrentSameInstant(t *testing.T) {
	l := GeminiPrivate()
	lim := New(l)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 200 {
				if ok, _ := lim.Allow("k", t0); ok {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != int64(l.Rate) {
		t.Fatalf("admitted %d, want %d", n, l.Rate)
	}
}

// TestConcurrentBound: goroutines stamp requests from a shared advancing
// clock on a few keys; per key, the total admitted never exceeds
// Rate + floor(span/T), span being the time the stamps cover, even
// though stamps reach the lock out of order.
func TestConcurrentBound(t *testing.T) {
	l := mustParse(t, "100/1s+5") // T = 10ms
	lim := New(l)
	const keys = 4
	var clock atomic.Int64 // ns since t0
	var admitted [keys]atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 2000 {
				now := clock.Add(int64(50 * time.Microsecond))
				key := (g + i) % keys
				if ok, _ := lim.Allow("key"+strconv.Itoa(key), t0.Add(time.Duration(now))); ok {
					admitted[key].Add(1)
				}
			}
		})
	}
	wg.Wait()
	span := time.Duration(clock.Load())
	bound := int64(l.Rate + int(span/l.Interval()))
	for k := range keys {
		n := admitted[k].Load()
		if n > bound {
			t.Errorf("key %d: admitted %d over %v, bound %d", k, n, span, bound)
		}
		if n < bound/2 { // sanity: the limiter does admit at about the rate
			t.Errorf("key %d: admitted only %d over %v, bound %d", k, n, span, bound)
		}
	}
}

// TestConcurrentMixed runs Allow, Override, SetLimit and Prune together
// for the race detector.
func TestConcurrentMixed(t *testing.T) {
	lim := New(GeminiPublic())
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 3000 {
				now := t0.Add(time.Duration(i) * time.Millisecond)
				key := strconv.Itoa((g*7919 + i) % 500)
				switch {
				case i%997 == 0:
					lim.Override(key, GeminiPrivate())
				case i%991 == 0:
					lim.ClearOverride(key)
				case g == 0 && i%500 == 0:
					lim.Prune(now)
				case g == 1 && i%1000 == 0:
					lim.SetLimit(Limit{Rate: 100 + i, Per: time.Minute, Burst: 5})
				default:
					lim.Allow(key, now)
				}
			}
		})
	}
	wg.Wait()
}

func TestAllowDoesNotAllocate(t *testing.T) {
	lim := New(GeminiPrivate())
	if err := lim.Override("vip", Limit{Rate: 10, Per: time.Second}); err != nil {
		t.Fatal(err)
	}
	key := "203.0.113.7"
	now := t0
	lim.Allow(key, now)
	lim.Allow("vip", now)
	for _, k := range []string{key, "vip"} {
		// Mostly rejections once the burst is spent, admissions as the
		// clock moves: both paths.
		allocs := testing.AllocsPerRun(1000, func() {
			now = now.Add(time.Millisecond)
			lim.Allow(k, now)
		})
		if allocs != 0 {
			t.Errorf("Allow(%q) on a known key: %v allocs per call", k, allocs)
		}
	}
	off := New(Limit{})
	if allocs := testing.AllocsPerRun(1000, func() { off.Allow(key, now) }); allocs != 0 {
		t.Errorf("unlimited Allow: %v allocs per call", allocs)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {1, 1}, {time.Second, 1}, {time.Second + 1, 2}, {59500 * time.Millisecond, 60}} {
		if got := RetryAfterSeconds(tt.d); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %d want %d", tt.d, got, tt.want)
		}
	}
}

// BenchmarkAllow: parallel callers over 4096 known keys (IPs), with the
// clock advancing so both admissions and rejections happen.
func BenchmarkAllow(b *testing.B) {
	lim := New(GeminiPrivate())
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("198.51.%d.%d", i/256, i%256)
		lim.Allow(keys[i], t0)
	}
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := seq.Add(1) * 7919
		for pb.Next() {
			i++
			lim.Allow(keys[i%uint64(len(keys))], t0.Add(time.Duration(i)*time.Microsecond))
		}
	})
}

// BenchmarkAllowOneKey: every caller on the same key, the worst case for
// lock contention.
func BenchmarkAllowOneKey(b *testing.B) {
	lim := New(GeminiPrivate())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			lim.Allow("k", t0)
		}
	})
}
