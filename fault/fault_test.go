package fault_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/fault"
)

const keyA, keyB = "account-AAAAAAAAAAAAAAAAAAAA", "account-BBBBBBBBBBBBBBBBBBBB"

func mustAdd(t *testing.T, in *fault.Injector, r fault.Rule) fault.Rule {
	t.Helper()
	got, err := in.Add(r)
	if err != nil {
		t.Fatalf("Add(%+v): %v", r, err)
	}
	return got
}

func TestAddValidates(t *testing.T) {
	for _, r := range []fault.Rule{
		{},                                      // does nothing
		{Error: "Teapot"},                       // unknown reason
		{Error: "ratelimit"},                    // reasons are case-sensitive, as in Gemini's JSON
		{Error: "RateLimit", Count: -1},         // negative count
		{Error: "RateLimit", Probability: 2},    // above 1
		{Error: "RateLimit", Probability: -0.1}, // below 0
		{Latency: -time.Second},
		{Latency: fault.MaxLatency + 1},
		{Error: "Maintenance", Public: true, Key: keyA}, // public requests have no key
		{Error: "InvalidNonce", Public: true},           // no nonce on public requests
		{ExpireHeartbeat: true, Public: true},
		{Error: "Maintenance", ID: "has space"},
		{Error: "Maintenance", ID: strings.Repeat("x", 65)},
	} {
		if _, err := fault.New(1).Add(r); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Add(%+v): %v, want ErrInvalid", r, err)
		}
	}
	for _, r := range []fault.Rule{
		{Error: "RateLimit"}, {Error: "Maintenance", Probability: 1}, {Error: "InvalidNonce", Key: keyA, Count: 3},
		{Latency: time.Millisecond}, {ExpireHeartbeat: true}, {Error: "Maintenance", Public: true, Probability: 0.5},
		{Latency: fault.MaxLatency, Public: true},
	} {
		if _, err := fault.New(1).Add(r); err != nil {
			t.Errorf("Add(%+v): %v", r, err)
		}
	}
}

func TestIDs(t *testing.T) {
	in := fault.New(1)
	if r := mustAdd(t, in, fault.Rule{Error: "RateLimit"}); r.ID != "f1" {
		t.Fatalf("first id %q", r.ID)
	}
	mustAdd(t, in, fault.Rule{Error: "RateLimit", ID: "f2"})
	// An assigned id skips one already taken.
	if r := mustAdd(t, in, fault.Rule{Error: "RateLimit"}); r.ID != "f3" {
		t.Fatalf("third id %q", r.ID)
	}
	if _, err := in.Add(fault.Rule{Error: "RateLimit", ID: "f1"}); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("duplicate id: %v", err)
	}
	if r, ok := in.Remove("f2"); !ok || r.ID != "f2" {
		t.Fatalf("Remove(f2) = %+v, %v", r, ok)
	}
	if _, ok := in.Remove("f2"); ok {
		t.Fatal("removed f2 twice")
	}
	if got := ids(in.List()); got != "f1 f3" {
		t.Fatalf("after Remove: %s", got)
	}
	in.Clear()
	if got := in.List(); len(got) != 0 {
		t.Fatalf("after Clear: %+v", got)
	}
	if _, ok := in.Match(keyA, false); ok {
		t.Fatal("match after Clear")
	}
}

func ids(rules []fault.Rule) string {
	var s []string
	for _, r := range rules {
		s = append(s, r.ID)
	}
	return strings.Join(s, " ")
}

func TestCountsAndExhaustion(t *testing.T) {
	in := fault.New(1)
	mustAdd(t, in, fault.Rule{Error: "Maintenance", Count: 2})
	e, ok := in.Match(keyA, false)
	if !ok || e.Error != "Maintenance" || e.RuleID != "f1" {
		t.Fatalf("first match %+v %v", e, ok)
	}
	if l := in.List(); len(l) != 1 || l[0].Count != 1 {
		t.Fatalf("remaining after one: %+v", l)
	}
	if _, ok := in.Match(keyB, false); !ok {
		t.Fatal("second match")
	}
	if l := in.List(); len(l) != 0 {
		t.Fatalf("an exhausted rule stays: %+v", l)
	}
	if e, ok := in.Match(keyA, false); ok {
		t.Fatalf("third match %+v", e)
	}

	// Unlimited rules never run out.
	mustAdd(t, in, fault.Rule{Latency: time.Millisecond})
	for range 100 {
		if e, ok := in.Match(keyA, false); !ok || e.Latency != time.Millisecond {
			t.Fatalf("unlimited rule: %+v %v", e, ok)
		}
	}
}

func TestKeyAndPublicMatching(t *testing.T) {
	in := fault.New(1)
	mustAdd(t, in, fault.Rule{ID: "a", Key: keyA, Error: "RateLimit"})
	mustAdd(t, in, fault.Rule{ID: "pub", Error: "Maintenance", Public: true, Count: 1})
	mustAdd(t, in, fault.Rule{ID: "all", Latency: time.Millisecond})
	for _, c := range []struct {
		key    string
		public bool
		want   string
	}{
		{keyA, false, "a"},   // the key's own rule comes first
		{keyB, false, "pub"}, // a public rule also covers signed requests
		{keyB, false, "all"}, // once it is spent, the next global rule
		{"", true, ""},       // public requests only match public rules
		{keyA, false, "a"},   // and the key's rule is still there
		{"", false, "all"},   // no key: global rules only
		{keyA + "x", false, "all"},
	} {
		e, ok := in.Match(c.key, c.public)
		if e.RuleID != c.want || ok != (c.want != "") {
			t.Errorf("Match(%q, %v) = %+v, %v; want rule %q", c.key, c.public, e, ok, c.want)
		}
	}
	mustAdd(t, in, fault.Rule{ID: "pub2", Error: "RateLimit", Public: true})
	if e, ok := in.Match("", true); !ok || e.RuleID != "pub2" || e.Error != "RateLimit" {
		t.Fatalf("public match %+v %v", e, ok)
	}
}

func TestProbability(t *testing.T) {
	const n, p, seed = 20000, 0.3, 42
	run := func() (hits int, pattern string) {
		in := fault.New(seed)
		mustAdd(t, in, fault.Rule{Error: "RateLimit", Probability: p})
		var b strings.Builder
		for i := range n {
			_, ok := in.Match(keyA, false)
			c := byte('0')
			if ok {
				hits++
				c = '1'
			}
			if i < 64 {
				b.WriteByte(c)
			}
		}
		return hits, b.String()
	}
	hits, pattern := run()
	// The standard deviation of the count is sqrt(n p (1-p)) ≈ 65; the
	// bounds are over 9 of them away, so the test fails only on a bug.
	if lo, hi := int(n*p)-600, int(n*p)+600; hits < lo || hits > hi {
		t.Fatalf("seed %d: %d of %d requests hit with probability %v, want %d..%d", seed, hits, n, p, lo, hi)
	}
	// The same seed replays the same faults.
	if hits2, pattern2 := run(); hits2 != hits || pattern2 != pattern {
		t.Fatalf("seed %d is not reproducible: %d %s vs %d %s", seed, hits, pattern, hits2, pattern2)
	}

	// A spared request does not spend the count: a rule with count 5 fires
	// exactly 5 times, then is gone.
	in := fault.New(seed)
	mustAdd(t, in, fault.Rule{Error: "RateLimit", Probability: 0.5, Count: 5})
	fired := 0
	for range 1000 {
		if _, ok := in.Match(keyA, false); ok {
			fired++
		}
	}
	if fired != 5 || len(in.List()) != 0 {
		t.Fatalf("fired %d times, rules left %+v", fired, in.List())
	}

	// A rule the draw spares lets the next rule be tried.
	in = fault.New(seed)
	mustAdd(t, in, fault.Rule{ID: "rare", Error: "RateLimit", Probability: 0.25})
	mustAdd(t, in, fault.Rule{ID: "always", Latency: time.Millisecond})
	seen := map[string]int{}
	for range 1000 {
		e, ok := in.Match(keyA, false)
		if !ok {
			t.Fatal("no rule matched")
		}
		seen[e.RuleID]++
	}
	if seen["rare"] < 150 || seen["rare"] > 350 || seen["always"] != 1000-seen["rare"] {
		t.Fatalf("fall-through: %v", seen)
	}
}

func TestConcurrentMatches(t *testing.T) {
	in := fault.New(7)
	const count = 1000
	mustAdd(t, in, fault.Rule{ID: "limited", Key: keyA, Error: "Maintenance", Count: count})
	var fired atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				if e, ok := in.Match(keyA, false); ok && e.RuleID == "limited" {
					fired.Add(1)
				}
			}
		}()
	}
	// Others change the rules meanwhile.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			r := mustAdd(t, in, fault.Rule{Key: keyB, Latency: time.Millisecond, Probability: 0.5})
			in.Match(keyB, false)
			in.List()
			in.Remove(r.ID)
		}
	}()
	wg.Wait()
	if fired.Load() != count {
		t.Fatalf("a rule with count %d fired %d times", count, fired.Load())
	}
	if l := in.List(); len(l) != 0 {
		t.Fatalf("rules left: %+v", l)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rules, err := fault.LoadFile(write("ok.json", `[
		{"error":"Maintenance","count":2},
		{"id":"slow","key":"`+keyA+`","latency":"250ms","probability":0.5},
		{"error":"RateLimit","public":true},
		{"expire_heartbeat":true,"key":"`+keyB+`"}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []fault.Rule{
		{Error: "Maintenance", Count: 2},
		{ID: "slow", Key: keyA, Latency: 250 * time.Millisecond, Probability: 0.5},
		{Error: "RateLimit", Public: true},
		{ExpireHeartbeat: true, Key: keyB},
	}
	if len(rules) != len(want) {
		t.Fatalf("rules %+v", rules)
	}
	for i := range want {
		if rules[i] != want[i] {
			t.Errorf("rule %d: %+v, want %+v", i+1, rules[i], want[i])
		}
	}
	in := fault.New(1)
	for _, r := range rules {
		mustAdd(t, in, r)
	}
	if got := ids(in.List()); got != "f1 slow f2 f3" {
		t.Fatalf("ids %s", got)
	}
	// A Spec round-trips.
	for _, r := range in.List() {
		back, err := fault.SpecOf(r).Rule()
		if err != nil || back != r {
			t.Errorf("round trip of %+v: %+v %v", r, back, err)
		}
	}

	if rules, err := fault.LoadFile(write("empty.json", `[]`)); err != nil || len(rules) != 0 {
		t.Fatalf("empty file: %v %v", rules, err)
	}
	for name, text := range map[string]string{
		"unknown-field.json": `[{"error":"Maintenance","colour":"red"}]`,
		"trailing.json":      `[{"error":"Maintenance"}] []`,
		"object.json":        `{"error":"Maintenance"}`,
		"bad-latency.json":   `[{"latency":"soon"}]`,
		"bad-error.json":     `[{"error":"Teapot"}]`,
		"bad-count.json":     `[{"error":"Maintenance","count":1.5}]`,
		"bad-id.json":        `[{"error":"Maintenance","id":"a/b"}]`,
		"duplicate-id.json":  `[{"error":"Maintenance","id":"x"},{"error":"RateLimit","id":"x"}]`,
		"not-json.json":      `error: Maintenance`,
	} {
		if _, err := fault.LoadFile(write(name, text)); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := fault.LoadFile(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestMaintenanceWindow: a public Maintenance rule with From and Until
// fires only inside its window, for public and signed requests alike, and
// is gone once the window has passed.
func TestMaintenanceWindow(t *testing.T) {
	start := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	now := start.Add(-time.Minute)
	in := fault.New(1)
	in.Now = func() time.Time { return now }
	spec := fault.Spec{ID: "maintenance", Error: twinex.Maintenance, Public: true, From: "2026-12-02T06:00:00Z", Until: "2026-12-02T06:30:00Z"}
	r, err := spec.Rule()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Add(r); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   time.Duration
		want bool
	}{{-time.Minute, false}, {-time.Nanosecond, false}, {0, true}, {29 * time.Minute, true}, {30 * time.Minute, false}} {
		now = start.Add(tt.at)
		for _, public := range []bool{true, false} {
			e, ok := in.Match("account-x", public)
			if ok != tt.want || (ok && e.Error != twinex.Maintenance) {
				t.Errorf("at %v public %v: %+v %v, want %v", tt.at, public, e, ok, tt.want)
			}
		}
	}
	if n := len(in.List()); n != 0 {
		t.Errorf("%d rules left after the window", n)
	}
	if got := fault.SpecOf(r); got.From != spec.From || got.Until != spec.Until {
		t.Errorf("SpecOf = %+v", got)
	}
	for _, bad := range []fault.Spec{
		{Error: twinex.Maintenance, Public: true, From: "06:00"},
		{Error: twinex.Maintenance, Public: true, From: "2026-12-02T06:30:00Z", Until: "2026-12-02T06:00:00Z"},
	} {
		if _, err := bad.Rule(); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestSocketFaultsKeepTheirWindow: a socket fault applies from From until
// Until, like a request fault.
func TestSocketFaultsKeepTheirWindow(t *testing.T) {
	now := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	in := fault.New(1)
	in.Now = func() time.Time { return now }
	if _, err := in.Add(fault.Rule{Key: "k", StopHeartbeats: true, FrameDelay: time.Second, From: now.Add(time.Hour), Until: now.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if e := in.Socket("k"); e != (fault.SocketEffect{}) {
		t.Fatalf("before From: %+v", e)
	}
	now = now.Add(90 * time.Minute)
	if e := in.Socket("k"); !e.StopHeartbeats || e.FrameDelay != time.Second {
		t.Fatalf("inside the window: %+v", e)
	}
	now = now.Add(time.Hour)
	if e := in.Socket("k"); e != (fault.SocketEffect{}) || len(in.List()) != 0 {
		t.Fatalf("after Until: %+v, rules %v", e, in.List())
	}
}
