package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/twinex/twinex"
)

// ActivityOpener opens a store whose data lives in dir; the suite closes
// it through the returned function.
type ActivityOpener func(t *testing.T, dir string) (twinex.ActivityStore, func())

// RunActivity is the contract suite of twinex.ActivityStore. A store that
// is also a twinex.UsageStore has its rollup checked under concurrent
// batches too.
func RunActivity(t *testing.T, open ActivityOpener) { // long: one contract suite; its cases are subtests sharing the opener, read top to bottom
	ctx := context.Background()
	newStore := func(t *testing.T) twinex.ActivityStore {
		s, closeFn := open(t, t.TempDir())
		t.Cleanup(closeFn)
		return s
	}
	add := func(t *testing.T, s twinex.ActivityStore, recs []twinex.Activity) {
		t.Helper()
		if err := s.AddActivity(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	list := func(t *testing.T, s twinex.ActivityStore, f twinex.ActivityFilter) []twinex.Activity {
		t.Helper()
		got, err := s.Activity(ctx, f)
		if err != nil {
			t.Fatalf("Activity(%+v): %v", f, err)
		}
		return got
	}
	// paths names records by their Path, which the tests make unique.
	paths := func(as []twinex.Activity) []string {
		out := []string{}
		for _, a := range as {
			out = append(out, a.Path)
		}
		return out
	}

	t.Run("NewestFirst", func(t *testing.T) {
		s := newStore(t)
		if err := s.AddActivity(ctx, nil); err != nil {
			t.Fatalf("an empty batch: %v", err)
		}
		recs := []twinex.Activity{
			{Time: 10, KeyID: "k1", UserID: 7, AccountID: 100, IP: "192.0.2.1", Method: "POST", Path: "/a", Status: 200, Latency: 15, Authenticated: true, Counted: true},
			{Time: 30, KeyID: "k1", UserID: 7, AccountID: 101, IP: "2001:db8::1", Method: "POST", Path: "/b", Reason: "InvalidNonce", Status: 400, Latency: 3},
			{Time: 20, KeyID: "k2", UserID: 7, IP: "192.0.2.1", Method: "GET", Path: "/c ✓", Status: 200},
		}
		add(t, s, recs)
		// Equal times keep the order they were added in: the later record
		// has the larger ID, and comes first.
		add(t, s, []twinex.Activity{
			{Time: 30, KeyID: "k2", UserID: 7, Method: "POST", Path: "/d", Status: 200},
			{Time: 30, KeyID: "k2", UserID: 7, Method: "POST", Path: "/e", Status: 200},
		})
		got := list(t, s, twinex.ActivityFilter{UserID: 7})
		if want := []string{"/e", "/d", "/b", "/c ✓", "/a"}; !reflect.DeepEqual(paths(got), want) {
			t.Fatalf("order %q, want %q", paths(got), want)
		}
		if got[0].ID <= got[1].ID || got[1].ID <= got[2].ID {
			t.Fatalf("IDs of equal times %d, %d, %d: the later record must have the larger ID", got[0].ID, got[1].ID, got[2].ID)
		}
		// Every field round-trips but the two the log does not keep.
		want := recs[1]
		want.ID = got[2].ID
		if got[2] != want {
			t.Fatalf("record %+v, want %+v", got[2], want)
		}
		want = recs[0]
		want.ID, want.Authenticated, want.Counted = got[4].ID, false, false
		if got[4] != want {
			t.Fatalf("record %+v, want %+v", got[4], want)
		}
		if got := list(t, s, twinex.ActivityFilter{UserID: 7, Limit: 2}); !reflect.DeepEqual(paths(got), []string{"/e", "/d"}) {
			t.Fatalf("limit 2: %q", paths(got))
		}
	})

	t.Run("Filters", func(t *testing.T) {
		s := newStore(t)
		add(t, s, []twinex.Activity{
			{Time: 1, KeyID: "k1", UserID: 7, AccountID: 100, IP: "192.0.2.1", Path: "/1", Status: 200},
			{Time: 2, KeyID: "k1", UserID: 7, AccountID: 101, IP: "192.0.2.2", Path: "/2", Reason: "InvalidSignature", Status: 400},
			{Time: 3, KeyID: "k2", UserID: 7, AccountID: 100, IP: "192.0.2.1", Path: "/3", Reason: "InsufficientFunds", Status: 406},
			{Time: 4, KeyID: "k3", UserID: 8, AccountID: 102, IP: "192.0.2.1", Path: "/4", Status: 200},
			{Time: 5, KeyID: "nope", IP: "198.51.100.9", Path: "/5", Reason: "InvalidSignature", Status: 400},
			{Time: 6, KeyID: "nope2", IP: "198.51.100.9", Path: "/6", Reason: "InvalidSignature", Status: 400},
		})
		for _, c := range []struct {
			f    twinex.ActivityFilter
			want []string
		}{
			{twinex.ActivityFilter{UserID: 7}, []string{"/3", "/2", "/1"}},
			{twinex.ActivityFilter{UserID: 8}, []string{"/4"}},
			{twinex.ActivityFilter{UserID: 9}, []string{}},
			{twinex.ActivityFilter{UserID: 7, KeyID: "k1"}, []string{"/2", "/1"}},
			{twinex.ActivityFilter{UserID: 7, KeyID: "k3"}, []string{}},
			{twinex.ActivityFilter{UserID: 7, AccountID: 100}, []string{"/3", "/1"}},
			{twinex.ActivityFilter{UserID: 7, IP: "192.0.2.1"}, []string{"/3", "/1"}},
			{twinex.ActivityFilter{UserID: 7, Outcome: "ok"}, []string{"/1"}},
			{twinex.ActivityFilter{UserID: 7, Outcome: "error"}, []string{"/3", "/2"}},
			{twinex.ActivityFilter{UserID: 7, Outcome: "InvalidSignature"}, []string{"/2"}},
			{twinex.ActivityFilter{UserID: 7, Since: 2}, []string{"/3", "/2"}},
			{twinex.ActivityFilter{UserID: 7, Before: 3}, []string{"/2", "/1"}},
			{twinex.ActivityFilter{UserID: 7, KeyID: "k1", Outcome: "error", IP: "192.0.2.2", AccountID: 101, Since: 1}, []string{"/2"}},
			{twinex.ActivityFilter{UnknownKeys: true}, []string{"/6", "/5"}},
			{twinex.ActivityFilter{UnknownKeys: true, KeyID: "nope"}, []string{"/5"}},
			{twinex.ActivityFilter{UnknownKeys: true, UserID: 7}, []string{"/6", "/5"}},
		} {
			if got := list(t, s, c.f); !reflect.DeepEqual(paths(got), c.want) {
				t.Errorf("Activity(%+v) = %q, want %q", c.f, paths(got), c.want)
			}
		}
	})

	t.Run("Paging", func(t *testing.T) {
		s := newStore(t)
		// Ties of time across page boundaries: the cursor is (Time, ID).
		var recs []twinex.Activity
		var want []string
		for i := range 11 {
			recs = append(recs, twinex.Activity{Time: int64(100 + i/3), KeyID: "k", UserID: 7, Path: fmt.Sprint("/", i)})
		}
		for i := len(recs) - 1; i >= 0; i-- {
			want = append(want, recs[i].Path)
		}
		add(t, s, recs[:5])
		add(t, s, recs[5:])
		var got []string
		f := twinex.ActivityFilter{UserID: 7, Limit: 3}
		for range 10 {
			page := list(t, s, f)
			got = append(got, paths(page)...)
			if len(page) < f.Limit {
				break
			}
			last := page[len(page)-1]
			f.Before, f.BeforeID = last.Time, last.ID
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pages %q, want %q", got, want)
		}
	})

	t.Run("Prune", func(t *testing.T) {
		s := newStore(t)
		add(t, s, []twinex.Activity{
			{Time: 1, KeyID: "k", UserID: 7, Path: "/1"},
			{Time: 2, KeyID: "k", UserID: 7, Path: "/2"},
			{Time: 3, KeyID: "nope", Path: "/3"},
			{Time: 4, KeyID: "k", UserID: 7, Path: "/4"},
		})
		n, err := s.PruneActivity(ctx, 4)
		if err != nil || n != 3 {
			t.Fatalf("PruneActivity = %d, %v; want 3", n, err)
		}
		if n, err := s.PruneActivity(ctx, 4); err != nil || n != 0 {
			t.Fatalf("PruneActivity again = %d, %v; want 0", n, err)
		}
		if got := list(t, s, twinex.ActivityFilter{UserID: 7}); !reflect.DeepEqual(paths(got), []string{"/4"}) {
			t.Fatalf("after prune %q", paths(got))
		}
	})

	t.Run("LargeBatch", func(t *testing.T) {
		s := newStore(t)
		const n = 20000
		recs := make([]twinex.Activity, n)
		for i := range recs {
			recs[i] = twinex.Activity{Time: int64(i), KeyID: "k", UserID: 7, Method: "POST", Path: "/v1/order/new", Status: 200}
		}
		add(t, s, recs)
		got := list(t, s, twinex.ActivityFilter{UserID: 7})
		if len(got) != n || got[0].Time != n-1 || got[n-1].Time != 0 {
			t.Fatalf("%d records back, want %d", len(got), n)
		}
	})

	t.Run("ConcurrentBatches", func(t *testing.T) {
		s := newStore(t)
		const writers, each = 8, 50
		minute := int64(60e9) * 1000 // the start of Unix minute 1000
		won := race(t, writers, func() (bool, error) {
			recs := make([]twinex.Activity, each)
			for i := range recs {
				recs[i] = twinex.Activity{Time: minute + int64(i), KeyID: "k", UserID: 7, Counted: true}
				if i%5 == 0 {
					recs[i].Reason = "RateLimited"
				}
			}
			return true, s.AddActivity(ctx, recs)
		})
		if won != writers {
			t.Fatalf("%d of %d batches stored", won, writers)
		}
		if got := list(t, s, twinex.ActivityFilter{UserID: 7}); len(got) != writers*each {
			t.Fatalf("%d records, want %d", len(got), writers*each)
		}
		us, ok := s.(twinex.UsageStore)
		if !ok {
			return
		}
		usage, err := us.Usage(ctx, "k", 1000, 1001)
		want := []twinex.UsagePoint{{Minute: 1000, Requests: writers * each, Errors: writers * each / 5, Counted: writers * each}}
		if err != nil || !reflect.DeepEqual(usage, want) {
			t.Fatalf("Usage = %+v, %v; want %+v", usage, err, want)
		}
	})
}
