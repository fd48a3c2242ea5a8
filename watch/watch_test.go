package watch_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/sqlite"
	"github.com/twinex/twinex/watch"
)

type outbox struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return nil
}

func (o *outbox) subjects() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, m := range o.sent {
		out = append(out, m.Subject)
	}
	return out
}

type fixture struct {
	db    *sqlite.DB
	w     *watch.Watcher
	keys  *keys.Service
	mail  *outbox
	user  twinex.User
	key   twinex.APIKey
	clock time.Time
}

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "twinex.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := auth.NewSealer(make([]byte, auth.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, mail: &outbox{}, clock: t0}
	now := func() time.Time { return f.clock }
	f.keys = &keys.Service{Store: db, Sealer: sealer, Fingerprints: db, Now: now}
	f.user = twinex.User{Email: "owner@example.com", Identity: twinex.IdentityVerified}
	acct, err := db.CreateUser(ctx, &f.user)
	if err != nil {
		t.Fatal(err)
	}
	f.key, _, err = f.keys.Create(ctx, f.user, acct, keys.CreateOptions{Roles: twinex.RoleTrader})
	if err != nil {
		t.Fatal(err)
	}
	f.w = &watch.Watcher{Store: db, Accounts: db, Keys: f.keys, Mail: f.mail, BaseURL: "https://twinex.example", Now: now}
	return f
}

// observe writes records to the log (as the recorder does) and runs the
// rules on them.
func (f *fixture) observe(t *testing.T, recs ...twinex.Activity) {
	t.Helper()
	ctx := context.Background()
	if err := f.db.AddActivity(ctx, recs); err != nil {
		t.Fatal(err)
	}
	f.w.Observe(ctx, recs)
	f.w.Drain(ctx)
}

func (f *fixture) rec(at time.Time, ip, reason string, authed bool) twinex.Activity {
	return twinex.Activity{Time: at.UnixNano(), KeyID: f.key.ID, UserID: f.user.ID, AccountID: f.key.AccountID, IP: ip,
		Method: "POST", Path: "/v1/balances", Reason: reason, Status: 200, Authenticated: authed, Counted: authed && reason == ""}
}

func (f *fixture) alerts(t *testing.T) []twinex.Alert {
	t.Helper()
	list, err := f.db.Alerts(context.Background(), f.user.ID, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func kinds(list []twinex.Alert) []twinex.AlertKind {
	var out []twinex.AlertKind
	for _, a := range list {
		out = append(out, a.Kind)
	}
	return out
}

func TestNewIP(t *testing.T) {
	f := setup(t)
	// The key's first address is not news.
	f.observe(t, f.rec(t0, "192.0.2.1", "", true), f.rec(t0.Add(time.Second), "192.0.2.1", "", true))
	if got := f.alerts(t); len(got) != 0 {
		t.Fatalf("alerts after the first address: %+v", got)
	}
	// Refused requests from elsewhere are not "used from" (other rules
	// cover them); an authenticated one is.
	f.observe(t, f.rec(t0.Add(time.Minute), "198.51.100.7", twinex.InvalidNonce, false))
	if got := f.alerts(t); len(got) != 0 {
		t.Fatalf("alerts after an unauthenticated request: %+v", got)
	}
	f.observe(t, f.rec(t0.Add(2*time.Minute), "198.51.100.7", "", true), f.rec(t0.Add(3*time.Minute), "198.51.100.7", "", true))
	got := f.alerts(t)
	if len(got) != 1 || got[0].Kind != twinex.AlertNewIP || got[0].IP != "198.51.100.7" || got[0].KeyID != f.key.ID {
		t.Fatalf("alerts: %+v", got)
	}
	// Once only, also for a fresh watcher (a restart) seeing the address again.
	f.w = &watch.Watcher{Store: f.db, Accounts: f.db, Keys: f.keys, Mail: f.mail}
	f.observe(t, f.rec(t0.Add(time.Hour), "198.51.100.7", "", true))
	if got := f.alerts(t); len(got) != 1 {
		t.Fatalf("alerts after seeing the address again: %+v", got)
	}
	subj := f.mail.subjects()
	if len(subj) != 1 || !strings.Contains(subj[0], "new address") {
		t.Fatalf("mail %q", subj)
	}
	if text := f.mail.sent[0].Text; !strings.Contains(text, "https://twinex.example/settings/alerts#alert-") || !strings.Contains(text, "198.51.100.7") {
		t.Fatalf("mail text:\n%s", text)
	}
}

func TestAllowlistBlock(t *testing.T) {
	f := setup(t)
	for i := range 3 {
		f.observe(t, f.rec(t0.Add(time.Duration(i)*time.Minute), "203.0.113.9", twinex.RemoteAddressForbidden, false))
	}
	got := f.alerts(t)
	if len(got) != 1 || got[0].Kind != twinex.AlertAllowlist || got[0].IP != "203.0.113.9" {
		t.Fatalf("alerts: %+v", got)
	}
	// Another address, or the next day, is another alert.
	f.observe(t, f.rec(t0.Add(5*time.Minute), "203.0.113.10", twinex.RemoteAddressForbidden, false),
		f.rec(t0.Add(24*time.Hour), "203.0.113.9", twinex.RemoteAddressForbidden, false))
	if got := f.alerts(t); len(got) != 3 {
		t.Fatalf("alerts: %+v", got)
	}
}

func TestRepeatedBadSignature(t *testing.T) {
	f := setup(t)
	// Four within the window, then a pause: nothing.
	for i := range 4 {
		f.observe(t, f.rec(t0.Add(time.Duration(i)*time.Minute), "198.51.100.1", twinex.InvalidSignature, false))
	}
	f.observe(t, f.rec(t0.Add(20*time.Minute), "198.51.100.1", twinex.InvalidSignature, false))
	if got := f.alerts(t); len(got) != 0 {
		t.Fatalf("alerts for spread-out failures: %+v", got)
	}
	// Five within ten minutes.
	for i := range 4 {
		f.observe(t, f.rec(t0.Add(21*time.Minute+time.Duration(i)*time.Second), "198.51.100.1", twinex.InvalidSignature, false))
	}
	got := f.alerts(t)
	if len(got) != 1 || got[0].Kind != twinex.AlertBadSig {
		t.Fatalf("alerts: %+v", got)
	}
	// More on the same day: still one.
	for i := range 10 {
		f.observe(t, f.rec(t0.Add(30*time.Minute+time.Duration(i)*time.Second), "198.51.100.1", twinex.InvalidSignature, false))
	}
	if got := f.alerts(t); len(got) != 1 {
		t.Fatalf("alerts: %+v", got)
	}
}

func TestSpike(t *testing.T) {
	f := setup(t)
	// A day of steady use: 20 requests a minute (100 per 5 minutes).
	var recs []twinex.Activity
	start := t0.Add(-24 * time.Hour)
	for m := range 24 * 60 {
		for i := range 20 {
			recs = append(recs, f.rec(start.Add(time.Duration(m)*time.Minute+time.Duration(i)*time.Second), "192.0.2.1", "", true))
		}
	}
	if err := f.db.AddActivity(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	burst := func(at time.Time, perMinute int) {
		var recs []twinex.Activity
		for m := range 5 {
			for i := range perMinute {
				recs = append(recs, f.rec(at.Add(time.Duration(m)*time.Minute+time.Duration(i)*time.Millisecond), "192.0.2.1", "", true))
			}
		}
		f.observe(t, recs...)
	}
	// 5x the baseline and above the floor: not far enough.
	burst(t0, 100)
	if got := f.alerts(t); len(got) != 0 {
		t.Fatalf("alerts at 5x: %+v", got)
	}
	// 15x the baseline.
	burst(t0.Add(10*time.Minute), 300)
	got := f.alerts(t)
	if len(got) != 1 || got[0].Kind != twinex.AlertSpike || !strings.Contains(got[0].Message, "1500 signed requests") {
		t.Fatalf("alerts at 15x: %+v", got)
	}
}

func TestSpikeFloor(t *testing.T) {
	f := setup(t)
	// No baseline at all, but below the floor: a new key's first minutes.
	var recs []twinex.Activity
	for i := range 250 {
		recs = append(recs, f.rec(t0.Add(time.Duration(i)*time.Second), "192.0.2.1", "", true))
	}
	f.observe(t, recs...)
	if got := f.alerts(t); len(got) != 0 {
		t.Fatalf("alerts below the floor: %+v", got)
	}
}

func TestSweepExpiringAndUnused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	// Expires in 10 days: nothing yet.
	if _, err := f.keys.Edit(ctx, f.key.ID, keys.EditOptions{Roles: twinex.RoleTrader, Expires: t0.Add(10 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.alerts(t); len(got) != 0 {
		t.Fatalf("alerts 10 days before expiry: %+v", got)
	}
	f.clock = t0.Add(4 * 24 * time.Hour)
	for range 2 {
		if err := f.w.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.alerts(t); len(got) != 1 || got[0].Kind != twinex.AlertExpiring {
		t.Fatalf("alerts 6 days before expiry: %+v", got)
	}
	// Never used, 90 days after creation (and with no expiry now).
	if _, err := f.keys.Edit(ctx, f.key.ID, keys.EditOptions{Roles: twinex.RoleTrader}); err != nil {
		t.Fatal(err)
	}
	f.clock = t0.Add(89 * 24 * time.Hour)
	f.w.Sweep(ctx)
	if got := f.alerts(t); len(got) != 1 {
		t.Fatalf("alerts at 89 days: %+v", got)
	}
	f.clock = t0.Add(91 * 24 * time.Hour)
	f.w.Sweep(ctx)
	f.w.Sweep(ctx)
	got := f.alerts(t)
	if len(got) != 2 || got[0].Kind != twinex.AlertUnused || !strings.Contains(got[0].Message, "never been used") {
		t.Fatalf("alerts at 91 days: %+v", got)
	}
	f.w.Drain(ctx)
	if n := len(f.mail.subjects()); n != 2 {
		t.Fatalf("%d mails", n)
	}
}

func TestQuotaWarningOncePerDay(t *testing.T) {
	f := setup(t)
	u := quota.Usage{Plan: twinex.FreePlan, Used: 80_000, Limit: 100_000, Resets: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	f.w.QuotaWarning(f.key, u)
	f.w.QuotaWarning(f.key, u)
	got := f.alerts(t)
	if len(got) != 1 || got[0].Kind != twinex.AlertQuota || !strings.Contains(got[0].Message, "80%") {
		t.Fatalf("alerts: %+v", got)
	}
	u.Resets = u.Resets.Add(24 * time.Hour)
	f.w.QuotaWarning(f.key, u)
	if got := f.alerts(t); len(got) != 2 {
		t.Fatalf("alerts the next day: %+v", got)
	}
}

func TestReportSecretRevokes(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	acct, _ := f.db.Accounts(ctx, f.user.ID)
	k, secret, err := f.keys.Create(ctx, f.user, acct[0], keys.CreateOptions{Roles: twinex.RoleTrader})
	if err != nil {
		t.Fatal(err)
	}
	// A well-formed secret of no key, and a rotated-out one, change nothing.
	other, _ := auth.NewSecret()
	if err := f.w.ReportSecret(ctx, other, "", "", "192.0.2.50"); err != nil {
		t.Fatal(err)
	}
	_, newSecret, err := f.keys.Rotate(ctx, k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.w.ReportSecret(ctx, secret, "https://paste.example/x", "scanner", "192.0.2.50"); err != nil {
		t.Fatal(err)
	}
	if e, _ := f.keys.Lookup(ctx, k.ID); e.Key().Revoked != 0 {
		t.Fatal("a retired secret revoked the key")
	}
	if got := f.alerts(t); len(got) != 0 {
		t.Fatalf("alerts: %+v", got)
	}
	if err := f.w.ReportSecret(ctx, newSecret, "https://paste.example/x", "scanner", "192.0.2.50"); err != nil {
		t.Fatal(err)
	}
	e, _ := f.keys.Lookup(ctx, k.ID)
	if e.Key().Revoked == 0 {
		t.Fatal("the reported key is not revoked")
	}
	if stored, _ := f.db.Key(ctx, k.ID); stored.Revoked == 0 {
		t.Fatal("the revocation is not stored")
	}
	got := f.alerts(t)
	if len(got) != 1 || got[0].Kind != twinex.AlertLeaked || !strings.Contains(got[0].Message, "https://paste.example/x") {
		t.Fatalf("alerts: %+v", got)
	}
	f.w.Drain(ctx)
	if subj := f.mail.subjects(); len(subj) != 1 || !strings.Contains(subj[0], "revoked") || f.mail.sent[0].To != "owner@example.com" {
		t.Fatalf("mail %q", subj)
	}
	// Reporting it again does nothing more.
	if err := f.w.ReportSecret(ctx, newSecret, "", "", ""); err != nil {
		t.Fatal(err)
	}
	if got := f.alerts(t); len(got) != 1 {
		t.Fatalf("alerts: %+v", got)
	}
}

func TestIndexFingerprintsFindsOlderKeys(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	// A key made without fingerprints (as before they existed).
	plain := &keys.Service{Store: f.db, Sealer: f.keys.Sealer}
	acct, _ := f.db.Accounts(ctx, f.user.ID)
	k, secret, err := plain.Create(ctx, f.user, acct[0], keys.CreateOptions{Roles: twinex.RoleFundManager})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.keys.FindSecret(ctx, secret); err == nil {
		t.Fatal("found before indexing")
	}
	if err := f.keys.IndexFingerprints(ctx); err != nil {
		t.Fatal(err)
	}
	e, err := f.keys.FindSecret(ctx, secret)
	if err != nil || e.Key().ID != k.ID {
		t.Fatalf("after indexing: %v", err)
	}
}

func TestRevokedKeyIsNoAttack(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.clock = t0.Add(-time.Hour)
	if _, err := f.keys.Revoke(ctx, f.key.ID); err != nil {
		t.Fatal(err)
	}
	// A bot still running with the revoked key: every request fails with
	// InvalidSignature, and that is not someone guessing the secret.
	for i := range 10 {
		f.observe(t, f.rec(t0.Add(time.Duration(i)*time.Second), "192.0.2.1", twinex.InvalidSignature, false))
	}
	if got := f.alerts(t); len(got) != 0 {
		t.Fatalf("alerts for a revoked key: %+v", got)
	}
}

func TestRefusedRequestsMakeNoSpike(t *testing.T) {
	f := setup(t)
	// Someone with only the key id floods it: that is bad_sig, not a spike
	// of the key's own use.
	var recs []twinex.Activity
	for i := range 400 {
		recs = append(recs, f.rec(t0.Add(time.Duration(i)*100*time.Millisecond), "198.51.100.3", twinex.InvalidSignature, false))
	}
	f.observe(t, recs...)
	if got := kinds(f.alerts(t)); len(got) != 1 || got[0] != twinex.AlertBadSig {
		t.Fatalf("alerts %v", got)
	}
}

func TestNewIPGroupsIPv6AndMailIsBounded(t *testing.T) {
	f := setup(t)
	f.observe(t, f.rec(t0, "2001:db8:1::1", "", true))
	// Other addresses of the same /64 are the same place.
	for i := range 50 {
		f.observe(t, f.rec(t0.Add(time.Duration(i+1)*time.Second), fmt.Sprintf("2001:db8:1::%x", i+2), "", true))
	}
	if got := f.alerts(t); len(got) != 0 {
		t.Fatalf("alerts within one /64: %+v", got)
	}
	// Many /64s (or IPv4 addresses): an alert each, but at most
	// MailsPerKeyDay mails a day.
	for i := range 15 {
		f.observe(t, f.rec(t0.Add(time.Minute+time.Duration(i)*time.Second), fmt.Sprintf("2001:db8:%x::1", i+2), "", true))
	}
	if got := f.alerts(t); len(got) != 15 {
		t.Fatalf("%d alerts for 15 networks", len(got))
	}
	if n := len(f.mail.subjects()); n != watch.MailsPerKeyDay {
		t.Fatalf("%d mails", n)
	}
	// The next day mails again.
	f.clock = t0.Add(24 * time.Hour)
	f.observe(t, f.rec(t0.Add(24*time.Hour), "198.51.100.200", "", true))
	if n := len(f.mail.subjects()); n != watch.MailsPerKeyDay+1 {
		t.Fatalf("%d mails the next day", n)
	}
}

// countingStore counts the alerts the watcher tries to store.
type countingStore struct {
	twinex.WatchStore
	mu    sync.Mutex
	tries int
}

func (c *countingStore) RaiseAlert(ctx context.Context, a *twinex.Alert) (bool, error) {
	c.mu.Lock()
	c.tries++
	c.mu.Unlock()
	return c.WatchStore.RaiseAlert(ctx, a)
}

func TestFloodCostsOneWrite(t *testing.T) {
	f := setup(t)
	cs := &countingStore{WatchStore: f.db}
	f.w = &watch.Watcher{Store: cs, Accounts: f.db, Keys: f.keys, Mail: f.mail, Now: func() time.Time { return f.clock }}
	for i := range 50 {
		f.observe(t, f.rec(t0.Add(time.Duration(i)*time.Second), "203.0.113.77", twinex.RemoteAddressForbidden, false))
	}
	if len(f.alerts(t)) != 1 || cs.tries != 1 {
		t.Fatalf("%d alerts after %d tries to store", len(f.alerts(t)), cs.tries)
	}
	// A sweep forgets (pruning may have removed alerts); the store still
	// keeps it one alert.
	if err := f.w.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.observe(t, f.rec(t0.Add(time.Minute), "203.0.113.77", twinex.RemoteAddressForbidden, false))
	if len(f.alerts(t)) != 1 || cs.tries != 2 {
		t.Fatalf("%d alerts after %d tries to store", len(f.alerts(t)), cs.tries)
	}
}
