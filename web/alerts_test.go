package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/ratelimit"
	"github.com/twinex/twinex/web"
)

// keyFor gives a signed-in, identity-verified user a trader key.
func keyFor(t *testing.T, e *env, b *browser, email string) (twinex.User, string) {
	t.Helper()
	verifiedUser(t, e, b, email)
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	u := mustUser(t, e, email)
	accts, _ := e.db.Accounts(t.Context(), u.ID)
	b.get("/settings/api")
	p := b.follow(b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {goodPassword}}))
	return u, keyIDRE.FindStringSubmatch(p.Body)[1]
}

func TestAlertsBannerPageAndRevoke(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	e.srv.Watch = e.db
	b := e.browser("192.0.2.40")
	u, id := keyFor(t, e, b, "quinn@example.com")
	if p := b.get("/settings"); strings.Contains(p.Body, "alert-banner") {
		t.Fatal("banner without alerts")
	}
	a := twinex.Alert{UserID: u.ID, KeyID: id, Kind: twinex.AlertNewIP, Dedupe: "new_ip:" + id + ":198.51.100.23", IP: "198.51.100.23",
		Message: "API key " + id + " was used from 198.51.100.23 <script>, an address it had never been used from before.", Created: e.now.UnixNano()}
	if _, err := e.db.RaiseAlert(t.Context(), &a); err != nil {
		t.Fatal(err)
	}
	// Someone else's alert is never shown.
	o := e.browser("192.0.2.41")
	other, _ := keyFor(t, e, o, "rory@example.com")
	oa := twinex.Alert{UserID: other.ID, KeyID: "account-other", Kind: twinex.AlertSpike, Dedupe: "x", Message: "rory's spike", Created: e.now.UnixNano()}
	e.db.RaiseAlert(t.Context(), &oa)

	p := b.get("/settings")
	wantBody(t, p, "alert-banner", "1 alert about your API keys", "API key used from a new address", "198.51.100.23")
	p = b.get("/settings/alerts")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `id="alert-`, "&lt;script&gt;", "Revoke this key", "/settings/api/keys/"+id+"/usage")
	if strings.Contains(p.Body, "rory") || strings.Contains(p.Body, "<script>") {
		t.Fatal("another user's alert, or unescaped text, on the page")
	}
	// Acting on another user's alert is a 404.
	wantStatus(t, b.post("/settings/alerts/"+itoa(oa.ID)+"/revoke", url.Values{}), http.StatusNotFound)
	wantStatus(t, b.post("/settings/alerts/nope/dismiss", url.Values{}), http.StatusNotFound)

	// Revoke in one step (no second factor enrolled: the button alone).
	b.get("/settings/alerts")
	p = b.follow(b.post("/settings/alerts/"+itoa(a.ID)+"/revoke", url.Values{}))
	wantBody(t, p, "The key is revoked")
	if k, _ := e.db.Key(t.Context(), id); k.Revoked == 0 {
		t.Fatal("key not revoked")
	}
	if p := b.get("/settings"); strings.Contains(p.Body, "alert-banner") {
		t.Fatal("banner after revoking the alert's key")
	}
	p = b.get("/settings/alerts")
	wantBody(t, p, "No open alerts", "Dismissed", "Key no longer active")
	if ms := e.mailsTo("quinn@example.com"); !strings.Contains(ms[len(ms)-1].Subject, "revoked") {
		t.Fatalf("mail %+v", ms[len(ms)-1])
	}
	if p := o.get("/settings/alerts"); !strings.Contains(p.Body, "rory&#39;s spike") {
		t.Fatalf("rory's alerts page:\n%s", p.Body)
	}
	// Dismissing.
	p = o.follow(o.post("/settings/alerts/"+itoa(oa.ID)+"/dismiss", url.Values{}))
	wantBody(t, p, "The alert is dismissed", "No open alerts")
}

func TestAlertRevokeAsksForTheSecondFactor(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	e.srv.Watch = e.db
	b := e.browser("192.0.2.42")
	u, id := keyFor(t, e, b, "sam@example.com")
	secret := enableMFA(t, b)
	a := twinex.Alert{UserID: u.ID, KeyID: id, Kind: twinex.AlertBadSig, Dedupe: "bad_sig:" + id, Message: "bad signatures", Created: e.now.UnixNano()}
	e.db.RaiseAlert(t.Context(), &a)
	b.get("/settings/alerts")
	p := b.post("/settings/alerts/"+itoa(a.ID)+"/revoke", url.Values{"code": {"000000"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "confirm with a code")
	if k, _ := e.db.Key(t.Context(), id); k.Revoked != 0 {
		t.Fatal("revoked without a valid code")
	}
	e.advance(time.Minute) // the enrolment's code is spent
	b.get("/settings/alerts")
	p = b.follow(b.post("/settings/alerts/"+itoa(a.ID)+"/revoke", url.Values{"code": {code(t, secret, e.now)}}))
	wantBody(t, p, "The key is revoked")
}

func TestKeyUsagePage(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	e.srv.Watch = e.db
	e.srv.Quota = &quota.Service{Store: e.db}
	e.srv.KeyLimiter = ratelimit.New(ratelimit.GeminiPrivate())
	b := e.browser("192.0.2.43")
	u, id := keyFor(t, e, b, "tia@example.com")
	var recs []twinex.Activity
	for i := range 90 {
		a := twinex.Activity{Time: e.now.Add(-time.Duration(i) * 20 * time.Second).UnixNano(), KeyID: id, UserID: u.ID, IP: "192.0.2.43",
			Method: "POST", Path: "/v1/balances", Status: 200, Authenticated: true, Counted: true}
		if i%9 == 0 {
			a.Reason, a.Status, a.Counted = twinex.InsufficientFunds, 400, true
		}
		recs = append(recs, a)
	}
	// A month-old record shows only in the 30-day chart.
	recs = append(recs, twinex.Activity{Time: e.now.Add(-20 * 24 * time.Hour).UnixNano(), KeyID: id, UserID: u.ID, Status: 200})
	if err := e.db.AddActivity(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Quota.Load(t.Context(), e.now); err != nil {
		t.Fatal(err)
	}
	p := b.get("/settings/api/keys/" + id + "/usage")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Last hour, per minute", "Last 24 hours", "Last 30 days", "<svg", "600 requests per minute",
		"of 100,000 requests today", "free plan")
	totals := regexp.MustCompile(`<p class="hint">(\d+) requests, (\d+) refused`).FindAllStringSubmatch(p.Body, -1)
	if len(totals) != 3 || totals[0][1] != "90" || totals[0][2] != "10" || totals[1][1] != "90" || totals[2][1] != "91" {
		t.Fatalf("chart totals %v", totals)
	}
	// Another user's key is a 404.
	o := e.browser("192.0.2.44")
	verifiedUser(t, e, o, "uma@example.com")
	wantStatus(t, o.get("/settings/api/keys/"+id+"/usage"), http.StatusNotFound)
}

// enableMFA turns on two-factor authentication and returns its secret.
func enableMFA(t *testing.T, b *browser) string {
	t.Helper()
	m := mfaSecretRE.FindStringSubmatch(b.get("/settings/mfa").Body)
	if m == nil {
		t.Fatal("no enrolment secret")
	}
	wantStatus(t, b.post("/settings/mfa", url.Values{"code": {code(t, m[1], b.e.now)}}), http.StatusOK)
	return m[1]
}
