package keys

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/sqlite"
)

type fixture struct {
	s    *Service
	db   *sqlite.DB
	user twinex.User
	acct twinex.Account
	now  time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "twinex.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mk := make([]byte, 32)
	rand.Read(mk)
	sealer, _ := auth.NewSealer(mk)
	f := &fixture{db: db, now: time.Unix(1_800_000_000, 0)}
	f.s = &Service{Store: db, Sealer: sealer, Now: func() time.Time { return f.now }}
	f.user = twinex.User{Email: "k@example.com", Identity: twinex.IdentityVerified}
	if f.acct, err = db.CreateUser(context.Background(), &f.user); err != nil {
		t.Fatal(err)
	}
	return f
}

func nonce(t *testing.T, v string) auth.Nonce {
	t.Helper()
	n, err := auth.ParseNonce(json.RawMessage(v))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateSealsTheSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, secret, err := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader, Allowlist: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.db.Key(ctx, k.ID)
	if len(stored.Secret) == 0 || string(stored.Secret) == secret || stored.AccountID != f.acct.ID {
		t.Fatalf("stored key %+v", stored)
	}
	e, err := f.s.Lookup(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Verify("cGF5bG9hZA==", auth.Sign(secret, "cGF5bG9hZA=="), f.now) || e.Verify("cGF5bG9hZA==", auth.Sign("wrong", "cGF5bG9hZA=="), f.now) {
		t.Fatal("signature check")
	}
	if !e.Allows(netip.MustParseAddr("10.1.2.3")) || e.Allows(netip.MustParseAddr("127.0.0.1")) {
		t.Fatal("allowlist")
	}
	unverified := f.user
	unverified.Identity = twinex.IdentityPending
	if _, _, err := f.s.Create(ctx, unverified, f.acct, CreateOptions{Roles: twinex.RoleTrader}); !errors.Is(err, ErrNotVerified) {
		t.Fatalf("unverified user: %v", err)
	}
	for _, o := range []CreateOptions{
		{Roles: twinex.RoleAuditor | twinex.RoleTrader},
		{Roles: twinex.RoleAdministrator},
		{Roles: twinex.RoleTrader, Allowlist: []string{"not-an-ip"}},
		{Roles: twinex.RoleTrader, Master: true, RequireHeartbeat: true},
		{Roles: twinex.RoleTrader, Expires: f.now.Add(-time.Hour)},
	} {
		if _, _, err := f.s.Create(ctx, f.user, f.acct, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestNoncesSurviveAReload(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, _, _ := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader})
	e, _ := f.s.Lookup(ctx, k.ID)
	if _, err := f.s.Accept(e, nonce(t, `"100"`), f.now, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Accept(e, nonce(t, `100`), f.now, "127.0.0.1"); twinex.ErrorReason(err) != twinex.InvalidNonce {
		t.Fatalf("repeated nonce: %v", err)
	}
	use, err := f.s.Accept(e, nonce(t, `"101.5"`), f.now, "127.0.0.1")
	if err != nil || use.LastNonce != "101.5" || use.ID != k.ID {
		t.Fatalf("use %+v %v", use, err)
	}
	if err := f.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// A new service (a restart) refuses what the old one accepted.
	fresh := &Service{Store: f.db, Sealer: f.s.Sealer, Now: f.s.Now}
	e2, err := fresh.Lookup(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Accept(e2, nonce(t, `101`), f.now, "127.0.0.1"); twinex.ErrorReason(err) != twinex.InvalidNonce {
		t.Fatalf("old nonce after a restart: %v", err)
	}
}

// TestReplayMarksSurviveAReload: a time-based key's state change, once its
// use is stored with its effect, is refused again by a new service (a
// restart), until its nonce leaves the window; the stored marks are pruned
// after that.
func TestReplayMarksSurviveAReload(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, _, _ := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader, TimeNonce: true})
	e, _ := f.s.Lookup(ctx, k.ID)
	use, err := f.s.Accept(e, nonce(t, strconv.FormatInt(f.now.Unix(), 10)), f.now, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	const sig = "ABCDEF0123"
	use, err = f.s.Once(e, use, sig, f.now)
	if err != nil || use.Replay.KeyID != k.ID || use.Replay.Sig == "" || use.Replay.Until != f.now.Add(replayWindow).UnixNano() {
		t.Fatalf("Once: %+v %v", use.Replay, err)
	}
	if _, err := f.s.Once(e, use, strings.ToLower(sig), f.now); twinex.ErrorReason(err) != twinex.InvalidNonce {
		t.Fatalf("the same signature (in lower case) again: %v", err)
	}
	// The sequencer stores the use with the request's effect.
	if err := f.db.TouchKeys(ctx, []twinex.KeyUse{use}); err != nil {
		t.Fatal(err)
	}
	restart := func(at time.Time) (*Service, *Entry) {
		s := &Service{Store: f.db, Sealer: f.s.Sealer, Now: func() time.Time { return at }}
		e, err := s.Lookup(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s, e
	}
	later := f.now.Add(20 * time.Second)
	s2, e2 := restart(later)
	if _, err := s2.Once(e2, twinex.KeyUse{ID: k.ID}, sig, later); twinex.ErrorReason(err) != twinex.InvalidNonce {
		t.Fatalf("a replay after a restart: %v", err)
	}
	if _, err := s2.Once(e2, twinex.KeyUse{ID: k.ID}, "0123456789", later); err != nil {
		t.Fatalf("another request after a restart: %v", err)
	}
	// Past the window the mark is gone (the nonce check refuses the
	// request by then), and pruning deletes it.
	gone := f.now.Add(replayWindow + time.Second)
	s3, e3 := restart(gone)
	if _, err := s3.Once(e3, twinex.KeyUse{ID: k.ID}, sig, gone); err != nil {
		t.Fatalf("a mark past its window: %v", err)
	}
	if err := s3.PruneReplays(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := f.db.KeyReplays(ctx, "", 0); len(left) != 0 {
		t.Fatalf("marks left after pruning: %+v", left)
	}
}

// TestOnceLeavesCounterKeysAlone: keys with session nonces never repeat a
// nonce, so they get no replay mark.
func TestOnceLeavesCounterKeysAlone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, _, _ := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader})
	e, _ := f.s.Lookup(ctx, k.ID)
	for range 2 {
		use, err := f.s.Once(e, twinex.KeyUse{ID: k.ID}, "abc", f.now)
		if err != nil || use.Replay.Sig != "" {
			t.Fatalf("Once on a counter key: %+v %v", use, err)
		}
	}
}

func TestRotateRevokeAndHeartbeats(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, old, _ := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader, RequireHeartbeat: true})
	e, _ := f.s.Lookup(ctx, k.ID)
	_, fresh, err := f.s.Rotate(ctx, k.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	const p = "cGF5bG9hZA=="
	if !e.Verify(p, auth.Sign(old, p), f.now) || !e.Verify(p, auth.Sign(fresh, p), f.now) {
		t.Fatal("both secrets must work during the grace period")
	}
	if e.Verify(p, auth.Sign(old, p), f.now.Add(2*time.Minute)) {
		t.Fatal("the old secret works after the grace period")
	}
	// Heartbeats: a key is reported once after 30 s of silence.
	f.s.Accept(e, nonce(t, `1`), f.now, "::1")
	if got := f.s.Expired(f.now.Add(29*time.Second), 30*time.Second); len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	if got := f.s.Expired(f.now.Add(31*time.Second), 30*time.Second); len(got) != 1 || got[0].ID != k.ID {
		t.Fatalf("expired: %v", got)
	}
	if got := f.s.Expired(f.now.Add(90*time.Second), 30*time.Second); len(got) != 0 {
		t.Fatalf("reported twice: %v", got)
	}
	revoked, err := f.s.Revoke(ctx, k.ID)
	if err != nil || revoked.Revoked == 0 || e.Key().Revoked == 0 {
		t.Fatalf("revoke: %+v %v", revoked, err)
	}
	if _, _, err := f.s.Rotate(ctx, k.ID, 0); !errors.Is(err, ErrRevoked) {
		t.Fatalf("rotating a revoked key: %v", err)
	}
	if _, err := f.s.Lookup(ctx, "account-nope"); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
}

// TestLateOlderUseDoesNotRewindTheMark: a request accepted earlier but
// committed later (a slow withdrawal) must not take the stored mark back
// below a newer request's, or the newer one could be replayed after a
// restart.
func TestLateOlderUseDoesNotRewindTheMark(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, _, _ := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader})
	e, _ := f.s.Lookup(ctx, k.ID)
	slow, err := f.s.Accept(e, nonce(t, `100`), f.now, "::1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Accept(e, nonce(t, `101`), f.now, "::1"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Flush(ctx); err != nil { // writes 101
		t.Fatal(err)
	}
	if err := f.db.TouchKeys(ctx, []twinex.KeyUse{slow}); err != nil { // the slow request's batch lands
		t.Fatal(err)
	}
	restarted := &Service{Store: f.db, Sealer: f.s.Sealer, Now: f.s.Now}
	e2, err := restarted.Lookup(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restarted.Accept(e2, nonce(t, `101`), f.now, "::1"); twinex.ErrorReason(err) != twinex.InvalidNonce {
		t.Fatalf("nonce 101 replayed after a restart: %v", err)
	}
	// And the restarted service's uses still sort after the stored one.
	use, err := restarted.Accept(e2, nonce(t, `102`), f.now, "::1")
	if err != nil || use.Seq <= slow.Seq+1 {
		t.Fatalf("use after restart %+v %v", use, err)
	}
}

// TestStartClockAfterARestart: a heartbeat key with open orders whose
// client went silent across a restart expires 30 s after the start.
func TestStartClockAfterARestart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hb, _, _ := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader, RequireHeartbeat: true})
	plain, _, _ := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader})
	restarted := &Service{Store: f.db, Sealer: f.s.Sealer, Now: f.s.Now}
	for _, id := range []string{hb.ID, plain.ID, "account-unknownunknown00", "UI"} {
		if err := restarted.StartClock(ctx, id, f.now); err != nil {
			t.Fatalf("StartClock(%s): %v", id, err)
		}
	}
	got := restarted.Expired(f.now.Add(31*time.Second), 30*time.Second)
	if len(got) != 1 || got[0].ID != hb.ID {
		t.Fatalf("expired after a silent restart: %v", got)
	}
}

// countingStore counts look-ups of keys.
type countingStore struct {
	twinex.AccountStore
	lookups int
}

func (c *countingStore) Key(ctx context.Context, id string) (twinex.APIKey, error) {
	c.lookups++
	return c.AccountStore.Key(ctx, id)
}

// TestUnknownKeysAreRemembered: an id the store lacks is looked up once a
// minute at most; a key created meanwhile is found at once.
func TestUnknownKeysAreRemembered(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st := &countingStore{AccountStore: f.db}
	f.s.Store = st
	for range 5 {
		if _, err := f.s.Lookup(ctx, "account-NoSuchKeyNoSuchKey00"); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
	}
	if st.lookups != 1 {
		t.Fatalf("%d store look-ups for one unknown id, want 1", st.lookups)
	}
	f.now = f.now.Add(unknownTTL)
	f.s.Lookup(ctx, "account-NoSuchKeyNoSuchKey00")
	if st.lookups != 2 {
		t.Fatalf("%d store look-ups after the TTL, want 2", st.lookups)
	}
	k, _, err := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.Exists(ctx, k.ID); !ok || err != nil {
		t.Fatalf("Exists(new key) = %v, %v", ok, err)
	}
	if _, err := f.s.Lookup(ctx, k.ID); err != nil {
		t.Fatalf("a new key: %v", err)
	}
	// A new service (a restart) knows every key without loading it.
	fresh := &Service{Store: f.db, Sealer: f.s.Sealer, Now: f.s.Now}
	if ok, _ := fresh.Exists(ctx, k.ID); !ok {
		t.Fatal("a stored key is unknown after a restart")
	}
	if ok, _ := fresh.Exists(ctx, "account-NoSuchKeyNoSuchKey00"); ok {
		t.Fatal("a missing key exists")
	}
	// An id that cannot be a key is not looked up, nor remembered.
	before := st.lookups
	f.s.Lookup(ctx, strings.Repeat("x", 5000))
	if st.lookups != before || len(f.s.unknown) != 1 {
		t.Fatalf("an impossible id: %d look-ups, %d remembered", st.lookups-before, len(f.s.unknown))
	}
	f.now = f.now.Add(2 * unknownTTL)
	f.s.SweepUnknown()
	if len(f.s.unknown) != 0 {
		t.Fatalf("%d missing ids left after their time", len(f.s.unknown))
	}
}

// touchCounter counts the uses written by Flush.
type touchCounter struct {
	twinex.AccountStore
	touched []twinex.KeyUse
}

func (c *touchCounter) TouchKeys(ctx context.Context, uses []twinex.KeyUse) error {
	c.touched = append(c.touched, uses...)
	return c.AccountStore.TouchKeys(ctx, uses)
}

// TestFlushSkipsDurableUses: a use the sequencer made durable with its
// batch is not written again by Flush; a later read's use still is, and
// the mark survives a restart either way.
func TestFlushSkipsDurableUses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, _, _ := f.s.Create(ctx, f.user, f.acct, CreateOptions{Roles: twinex.RoleTrader})
	st := &touchCounter{AccountStore: f.db}
	f.s.Store = st
	e, _ := f.s.Lookup(ctx, k.ID)
	use, err := f.s.Accept(e, nonce(t, `100`), f.now, "::1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.TouchKeys(ctx, []twinex.KeyUse{use}); err != nil { // the order's batch
		t.Fatal(err)
	}
	f.s.Durable(e, use.Seq)
	if err := f.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(st.touched) != 0 {
		t.Fatalf("Flush wrote %v, already durable", st.touched)
	}
	read, err := f.s.Accept(e, nonce(t, `101`), f.now, "::1") // a read after it
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(st.touched) != 1 || st.touched[0].Seq != read.Seq {
		t.Fatalf("Flush wrote %v, want the read's use", st.touched)
	}
	restarted := &Service{Store: f.db, Sealer: f.s.Sealer, Now: f.s.Now}
	e2, err := restarted.Lookup(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restarted.Accept(e2, nonce(t, `101`), f.now, "::1"); twinex.ErrorReason(err) != twinex.InvalidNonce {
		t.Fatalf("nonce 101 accepted again after a restart: %v", err)
	}
}
