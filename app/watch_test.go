package app

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
)

// forwarded adds X-Forwarded-For, as a trusted proxy would.
type forwarded string

func (f forwarded) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(f))
	return http.DefaultTransport.RoundTrip(r)
}

func demoKey(t *testing.T, dir string) (key, secret string) {
	t.Helper()
	creds, err := os.ReadFile(filepath.Join(dir, DemoCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(creds), "\n") {
		if v, ok := strings.CutPrefix(line, "GEMINI_API_KEY="); ok {
			key = v
		}
		if v, ok := strings.CutPrefix(line, "GEMINI_API_SECRET="); ok {
			secret = v
		}
	}
	return key, secret
}

// waitAlert polls until the user has an alert of kind (the recorder
// writes in batches).
func waitAlert(t *testing.T, a *App, userID int64, kind twinex.AlertKind) twinex.Alert {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		list, err := a.st.store.Alerts(context.Background(), userID, true, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range list {
			if al.Kind == kind {
				return al
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s alert", kind)
	return twinex.Alert{}
}

// TestWatchingKeys drives the alert rules, the quota count and the secret
// report through the whole server.
func TestWatchingKeys(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, TrustedProxies: "127.0.0.1/32"}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { a.Close() }()
	key, secret := demoKey(t, dir)
	base := "http://" + a.Addr()
	demo, err := a.st.store.UserByEmail(ctx, DemoEmail)
	if err != nil {
		t.Fatal(err)
	}
	// One nonce source for both clients of the key: two sources could
	// hand out the same millisecond.
	nonces := gemini.WithNonceSource(gemini.NewMillisNonce(time.Now))
	if _, err := gemini.New(base, key, secret, nonces).Balances(ctx); err != nil {
		t.Fatal(err)
	}
	away := gemini.New(base, key, secret, nonces, gemini.WithHTTPClient(&http.Client{Transport: forwarded("198.51.100.9")}))
	if _, err := away.Balances(ctx); err != nil {
		t.Fatal(err)
	}
	al := waitAlert(t, a, demo.ID, twinex.AlertNewIP)
	if al.IP != "198.51.100.9" || al.KeyID != key {
		t.Fatalf("alert %+v", al)
	}

	// The quota counted both requests, and still does after a restart.
	k, _ := a.st.store.Key(ctx, key)
	if u, _ := a.st.quota.Usage(ctx, k, time.Now()); u.Used != 2 || u.Limit != twinex.FreePlan.DailyRequests {
		t.Fatalf("quota %+v", u)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	base = "http://" + a.Addr()
	if u, _ := a.st.quota.Usage(ctx, k, time.Now()); u.Used != 2 {
		t.Fatalf("quota after a restart %+v", u)
	}

	// Anyone may report the secret; the key stops working at once.
	resp, err := http.Post(base+"/secrets/v1/report", "application/json",
		strings.NewReader(`{"secrets":["`+secret+`"],"url":"https://paste.example/abc","source":"test"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	if _, err := gemini.New(base, key, secret).Balances(ctx); !gemini.IsReason(err, twinex.InvalidSignature) {
		t.Fatalf("after the report: %v", err)
	}
	leaked := waitAlert(t, a, demo.ID, twinex.AlertLeaked)
	// The revocation dismissed the key's earlier alerts; the leak's stays.
	if open, _ := a.st.store.Alerts(ctx, demo.ID, false, 10); len(open) != 1 || open[0].ID != leaked.ID {
		t.Fatalf("open alerts after the report: %+v", open)
	}
	// The owner is mailed (the sandbox's mailbox), with a link to the alert.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ms, err := a.st.store.Mails(ctx, DemoEmail, 50)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range ms {
			if strings.Contains(m.Subject, "found in public") && strings.Contains(m.Text, base+"/settings/alerts#alert-") {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert mail among %d", len(ms))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// After a restart the sandbox hands out a working demo key again, with
	// the same login.
	before, _ := os.ReadFile(filepath.Join(dir, DemoCredentialsFile))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	key2, secret2 := demoKey(t, dir)
	if key2 == key || secret2 == secret {
		t.Fatal("the revoked demo key is still the demo key")
	}
	if _, err := gemini.New("http://"+a.Addr(), key2, secret2).Balances(ctx); err != nil {
		t.Fatalf("the new demo key: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, DemoCredentialsFile))
	firstLine := func(b []byte) string { l, _, _ := strings.Cut(string(b), "\n"); return l }
	if firstLine(before) != firstLine(after) || !strings.Contains(firstLine(after), ", password ") {
		t.Fatalf("the login changed: %q -> %q", firstLine(before), firstLine(after))
	}
}
