package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/twinex/twinex"
)

// WatchStores is a store that keeps accounts, the activity log and what
// watching keys needs.
type WatchStores interface {
	twinex.AccountStore
	twinex.ActivityStore
	twinex.WatchStore
}

// WatchOpener opens a store whose data lives in dir; called again with the
// same dir after close, it returns a store holding the same data.
type WatchOpener func(t *testing.T, dir string) (WatchStores, func())

// RunWatch is the contract suite of twinex.WatchStore.
func RunWatch(t *testing.T, open WatchOpener) { // long: one contract suite; its cases are subtests sharing the opener, read top to bottom
	ctx := context.Background()
	dir := t.TempDir()
	db, closeFn := open(t, dir)
	u := twinex.User{Email: "watch@example.com"}
	acct, err := db.CreateUser(ctx, &u)
	if err != nil {
		t.Fatal(err)
	}
	key := twinex.APIKey{ID: "account-watch1", UserID: u.ID, AccountID: acct.ID, Secret: []byte{1}, Created: 1}
	revoked := twinex.APIKey{ID: "account-watch2", UserID: u.ID, AccountID: acct.ID, Secret: []byte{1}, Created: 2, Revoked: 3}
	for _, k := range []*twinex.APIKey{&key, &revoked} {
		if err := db.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("UsageRollup", func(t *testing.T) {
		min := int64(29_000_000) // a Unix minute
		at := func(m int64, sec int64) int64 { return (m*60 + sec) * 1e9 }
		recs := []twinex.Activity{
			{Time: at(min, 1), KeyID: key.ID, UserID: u.ID, Authenticated: true, Counted: true},
			{Time: at(min, 59), KeyID: key.ID, UserID: u.ID, Authenticated: true, Counted: true, Reason: twinex.InsufficientFunds},
			{Time: at(min, 30), KeyID: key.ID, UserID: u.ID, Reason: twinex.InvalidSignature},
			{Time: at(min+2, 0), KeyID: key.ID, UserID: u.ID, Authenticated: true, Reason: twinex.RateLimit},
			{Time: at(min+2, 5), KeyID: "account-nobody", Reason: twinex.InvalidSignature}, // unknown: not rolled up
		}
		if err := db.AddActivity(ctx, recs); err != nil {
			t.Fatal(err)
		}
		// A second batch adds to the same minute.
		if err := db.AddActivity(ctx, recs[:1]); err != nil {
			t.Fatal(err)
		}
		got, err := db.Usage(ctx, key.ID, min, min+3)
		want := []twinex.UsagePoint{{Minute: min, Requests: 4, Errors: 2, Counted: 3}, {Minute: min + 2, Requests: 1, Errors: 1}}
		if err != nil || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("usage %+v %v, want %+v", got, err, want)
		}
		if got, _ := db.Usage(ctx, "account-nobody", 0, min+10); len(got) != 0 {
			t.Fatalf("unknown key rolled up: %+v", got)
		}
		counted, err := db.CountedSince(ctx, min+1)
		if err != nil || len(counted) != 0 {
			t.Fatalf("counted since min+1: %v %v", counted, err)
		}
		counted, _ = db.CountedSince(ctx, min)
		if counted[key.ID] != 3 || len(counted) != 1 {
			t.Fatalf("counted since min: %v", counted)
		}
		if err := db.PruneUsage(ctx, min+1); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Usage(ctx, key.ID, 0, min+10); len(got) != 1 || got[0].Minute != min+2 {
			t.Fatalf("after prune %+v", got)
		}
	})

	t.Run("KeyIPs", func(t *testing.T) {
		steps := []struct {
			ip            string
			isNew, before bool
		}{
			{"192.0.2.1", true, false},
			{"192.0.2.1", false, true},
			{"192.0.2.2", true, true},
			{"192.0.2.1", false, true},
		}
		for i, s := range steps {
			isNew, before, err := db.NoteKeyIP(ctx, key.ID, s.ip, int64(10+i))
			if err != nil || isNew != s.isNew || before != s.before {
				t.Fatalf("step %d (%s): new %v before %v err %v", i, s.ip, isNew, before, err)
			}
		}
	})

	// Servers sharing one database note addresses at once: of a new key's
	// first requests from several addresses, one is told the key was never
	// used before.
	t.Run("KeyIPsUnderRace", func(t *testing.T) {
		// Several rounds, each with a new key, so that a store that opens
		// connections lazily races with warm ones too.
		for round := range 20 {
			var mu sync.Mutex
			n := 0
			keyID := fmt.Sprint("account-race-", round)
			first := race(t, 8, func() (bool, error) {
				mu.Lock()
				n++
				ip := fmt.Sprintf("198.51.100.%d", n)
				mu.Unlock()
				isNew, before, err := db.NoteKeyIP(ctx, keyID, ip, 5)
				if err == nil && !isNew {
					err = fmt.Errorf("address %s not new", ip)
				}
				return !before, err
			})
			if first != 1 {
				t.Fatalf("round %d: %d requests were told the key was never used", round, first)
			}
		}
	})

	// Of several servers raising one occurrence at once, one stores it. The
	// alerts are another user's, so that the subtests below see only their
	// own.
	t.Run("AlertDedupeUnderRace", func(t *testing.T) {
		other := u.ID + 1000
		stored := race(t, 8, func() (bool, error) {
			a := twinex.Alert{UserID: other, KeyID: "account-race", Kind: twinex.AlertBadSig, Dedupe: "bad_sig:race", Message: "m", Created: 6}
			ok, err := db.RaiseAlert(ctx, &a)
			if ok && a.ID == 0 {
				err = fmt.Errorf("stored alert without an id")
			}
			return ok, err
		})
		if stored != 1 {
			t.Fatalf("one occurrence stored %d times", stored)
		}
		if list, _ := db.Alerts(ctx, other, true, 10); len(list) != 1 || list[0].Dedupe != "bad_sig:race" {
			t.Fatalf("alerts after the race: %+v", list)
		}
	})

	t.Run("Alerts", func(t *testing.T) {
		a := twinex.Alert{UserID: u.ID, KeyID: key.ID, Kind: twinex.AlertNewIP, Dedupe: "new_ip:k:ip", IP: "192.0.2.2", Message: "m", Created: 5}
		ok, err := db.RaiseAlert(ctx, &a)
		if err != nil || !ok || a.ID == 0 {
			t.Fatalf("raise: %v %v %d", ok, err, a.ID)
		}
		dup := a
		dup.ID, dup.Created = 0, 6
		if ok, err := db.RaiseAlert(ctx, &dup); err != nil || ok {
			t.Fatalf("duplicate raised: %v %v", ok, err)
		}
		b := twinex.Alert{UserID: u.ID, KeyID: revoked.ID, Kind: twinex.AlertSpike, Dedupe: "spike:x", Created: 7}
		if ok, err := db.RaiseAlert(ctx, &b); err != nil || !ok {
			t.Fatalf("second alert: %v %v", ok, err)
		}
		list, err := db.Alerts(ctx, u.ID, false, 10)
		if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1] != a {
			t.Fatalf("alerts %+v %v", list, err)
		}
		if err := db.DismissAlerts(ctx, u.ID, a.ID, "", 8); err != nil {
			t.Fatal(err)
		}
		if err := db.DismissAlerts(ctx, u.ID+1, 0, revoked.ID, 8); err != nil { // another user's: no effect
			t.Fatal(err)
		}
		if list, _ := db.Alerts(ctx, u.ID, false, 10); len(list) != 1 || list[0].ID != b.ID {
			t.Fatalf("after dismissing one %+v", list)
		}
		if err := db.DismissAlerts(ctx, u.ID, 0, revoked.ID, 9); err != nil {
			t.Fatal(err)
		}
		all, _ := db.Alerts(ctx, u.ID, true, 10)
		if list, _ := db.Alerts(ctx, u.ID, false, 10); len(list) != 0 || len(all) != 2 || all[1].Dismissed != 8 {
			t.Fatalf("after dismissing the key's: shown %+v all %+v", list, all)
		}
		if got, err := db.Alert(ctx, u.ID, a.ID); err != nil || got.ID != a.ID || got.Dismissed != 8 || got.Kind != twinex.AlertNewIP {
			t.Fatalf("alert by id %+v %v", got, err)
		}
		if _, err := db.Alert(ctx, u.ID+1, a.ID); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("another user's alert by id: %v", err)
		}
		if n, err := db.OpenAlerts(ctx, u.ID); err != nil || n != 0 {
			t.Fatalf("open alerts %d %v", n, err)
		}
		c := twinex.Alert{UserID: u.ID, KeyID: key.ID, Kind: twinex.AlertUnused, Dedupe: "unused:x", Created: 10}
		db.RaiseAlert(ctx, &c)
		if n, _ := db.OpenAlerts(ctx, u.ID); n != 1 {
			t.Fatalf("open alerts %d", n)
		}
		// Pruning at 9 deletes the alert dismissed at 8 only, and the
		// addresses of the key revoked at 3.
		if _, _, err := db.NoteKeyIP(ctx, revoked.ID, "192.0.2.9", 1); err != nil {
			t.Fatal(err)
		}
		if err := db.PruneWatch(ctx, 9); err != nil {
			t.Fatal(err)
		}
		if all, _ := db.Alerts(ctx, u.ID, true, 10); len(all) != 2 || all[0].ID != c.ID || all[1].ID != b.ID {
			t.Fatalf("after pruning %+v", all)
		}
		if isNew, _, _ := db.NoteKeyIP(ctx, revoked.ID, "192.0.2.9", 20); !isNew {
			t.Fatal("a revoked key's addresses were not pruned")
		}
		if isNew, _, _ := db.NoteKeyIP(ctx, key.ID, "192.0.2.1", 20); isNew {
			t.Fatal("an active key's addresses were pruned")
		}
	})

	t.Run("Plans", func(t *testing.T) {
		if p, err := db.UserPlan(ctx, u.ID); err != nil || p != "" {
			t.Fatalf("plan before: %q %v", p, err)
		}
		for _, p := range []string{"pro", "unlimited"} {
			if err := db.SetUserPlan(ctx, u.ID, p); err != nil {
				t.Fatal(err)
			}
			if got, _ := db.UserPlan(ctx, u.ID); got != p {
				t.Fatalf("plan %q, want %q", got, p)
			}
		}
	})

	t.Run("KeysAndFingerprints", func(t *testing.T) {
		active, err := db.ActiveKeys(ctx)
		if err != nil || len(active) != 1 || active[0].ID != key.ID {
			t.Fatalf("active keys %+v %v", active, err)
		}
		un, err := db.Unfingerprinted(ctx)
		if err != nil || len(un) != 1 || un[0].ID != key.ID {
			t.Fatalf("unfingerprinted %+v %v", un, err)
		}
		fp1, fp2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
		if err := db.AddFingerprints(ctx, key.ID, fp1, fp2); err != nil {
			t.Fatal(err)
		}
		if err := db.AddFingerprints(ctx, revoked.ID, fp1); err != nil { // taken: left alone
			t.Fatal(err)
		}
		if id, err := db.KeyByFingerprint(ctx, fp1); err != nil || id != key.ID {
			t.Fatalf("by fingerprint: %q %v", id, err)
		}
		if _, err := db.KeyByFingerprint(ctx, []byte{3}); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("unknown fingerprint: %v", err)
		}
		if un, _ := db.Unfingerprinted(ctx); len(un) != 0 {
			t.Fatalf("unfingerprinted after adding %+v", un)
		}
	})

	closeFn()
	db, closeFn = open(t, dir)
	defer closeFn()
	if p, _ := db.UserPlan(ctx, u.ID); p != "unlimited" {
		t.Fatalf("plan after reopening: %q", p)
	}
	if list, _ := db.Alerts(ctx, u.ID, true, 10); len(list) != 2 {
		t.Fatalf("alerts after reopening: %+v", list)
	}
}
