package web_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/web"
)

var (
	keyIDRE  = regexp.MustCompile(`id="key-id" class="secret" type="text" readonly value="([^"]+)"`)
	secretRE = regexp.MustCompile(`id="key-secret" class="secret" type="text" readonly value="([^"]+)"`)
)

// verifiedUser signs up, verifies the email and logs in.
func verifiedUser(t *testing.T, e *env, b *browser, email string) {
	t.Helper()
	b.signup(email, goodPassword)
	b.get(e.link(email))
	wantStatus(t, b.login(email, goodPassword), http.StatusSeeOther)
}

// identity is a valid identity form (a fresh map: post adds the token).
func identity() url.Values {
	return url.Values{"legal_name": {"Ada Lovelace"}, "birth_date": {"1990-12-10"}, "country": {"gb"}, "address": {"12 St James's Square, London"}}
}

func TestIdentityForm(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.30")
	verifiedUser(t, e, b, "ada@example.com")

	b.get("/settings/identity")
	bad := url.Values{"legal_name": {""}, "birth_date": {"2020-01-01"}, "country": {"Britain"}, "address": {"x"}}
	p := b.post("/settings/identity", bad)
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Required.", "at least 18", "Choose your country from the list")
	u, _ := e.db.UserByEmail(t.Context(), "ada@example.com")
	if u.Identity != twinex.IdentityNone {
		t.Fatalf("refused form changed identity to %q", u.Identity)
	}

	p = b.post("/settings/identity", identity())
	wantStatus(t, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/settings/api?m=identity_verified" {
		t.Fatalf("redirect %q", loc)
	}
	u, _ = e.db.UserByEmail(t.Context(), "ada@example.com")
	sub, err := e.db.Identity(t.Context(), u.ID)
	if u.Identity != twinex.IdentityVerified || err != nil || sub.Country != "GB" || sub.LegalName != "Ada Lovelace" {
		t.Fatalf("identity %q, submission %+v, %v", u.Identity, sub, err)
	}
}

func TestIdentityNeedsReviewOutsideSandbox(t *testing.T) {
	e := newEnv(t)
	b := e.browser("192.0.2.31")
	verifiedUser(t, e, b, "bob@example.com")
	b.get("/settings/identity")
	p := b.post("/settings/identity", identity())
	if loc := p.Header.Get("Location"); loc != "/settings?m=identity_submitted" {
		t.Fatalf("redirect %q", loc)
	}
	u, _ := e.db.UserByEmail(t.Context(), "bob@example.com")
	if u.Identity != twinex.IdentityPending {
		t.Fatalf("identity %q, want pending", u.Identity)
	}
	// Pending users cannot create keys.
	p = b.get("/settings/api")
	wantBody(t, p, "In review")
	if strings.Contains(p.Body, `action="/settings/api/keys"`) {
		t.Fatal("key form offered to an unverified user")
	}
	p = b.post("/settings/api/keys", url.Values{"scope": {"master"}, "roles_auditor": {"on"}, "password": {goodPassword}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	if ks, _ := e.db.Keys(t.Context(), u.ID); len(ks) != 0 {
		t.Fatalf("unverified user got %d keys", len(ks))
	}
}

func TestCreateRotateRevokeKey(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.32")
	verifiedUser(t, e, b, "cy@example.com")
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	u, _ := e.db.UserByEmail(t.Context(), "cy@example.com")
	accts, _ := e.db.Accounts(t.Context(), u.ID)

	p := b.get("/settings/api")
	wantBody(t, p, "You have no API keys yet.", `action="/settings/api/keys"`)
	scope := url.Values{"scope": {itoa(accts[0].ID)}}

	// Refusals keep the form and create nothing.
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"roles_auditor": {"on"}, "roles_trader": {"on"}, "password": {goodPassword}}, "cannot be combined"},
		{url.Values{"password": {goodPassword}}, "at least one role"},
		{url.Values{"roles_administrator": {"on"}, "password": {goodPassword}}, "master keys only"},
		{url.Values{"roles_trader": {"on"}, "allowlist": {"10.0.0.5/24"}, "password": {goodPassword}}, "10.0.0.0/24"},
		{url.Values{"roles_trader": {"on"}, "allowlist": {"not-an-ip"}, "password": {goodPassword}}, "not-an-ip"},
		{url.Values{"roles_trader": {"on"}, "expires": {"-3"}, "password": {goodPassword}}, "offered lifetimes"},
		{url.Values{"roles_trader": {"on"}, "password": {"wrong password!"}}, "That is not your password."},
		{url.Values{"roles_trader": {"on"}, "password": {goodPassword}, "scope": {"999999"}}, "Choose one of your accounts."},
	} {
		f := url.Values{"scope": scope["scope"]}
		for k, v := range c.form {
			f[k] = v
		}
		b.get("/settings/api")
		p := b.post("/settings/api/keys", f)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantBody(t, p, c.want)
		if strings.Contains(p.Body, `id="key-secret"`) {
			t.Fatalf("%v: secret shown", c.form)
		}
	}
	if ks, _ := e.db.Keys(t.Context(), u.ID); len(ks) != 0 {
		t.Fatalf("refused forms made %d keys", len(ks))
	}

	b.get("/settings/api")
	p = b.post("/settings/api/keys", url.Values{"scope": scope["scope"], "label": {"grid bot"}, "roles_trader": {"on"}, "roles_fundmanager": {"on"},
		"allowlist": {"203.0.113.7\n2001:db8::/48"}, "expires": {"30"}, "password": {goodPassword}})
	secretURL := p.Header.Get("Location")
	p = b.follow(p)
	wantStatus(t, p, http.StatusOK)
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("the secret page may be cached")
	}
	// Shown once: a reload (or another browser) gets nothing.
	wantStatus(t, b.get(secretURL), http.StatusGone)
	id, secret := keyIDRE.FindStringSubmatch(p.Body), secretRE.FindStringSubmatch(p.Body)
	if id == nil || secret == nil {
		t.Fatalf("no key and secret on the page:\n%s", p.Body)
	}
	k, err := e.db.Key(t.Context(), id[1])
	if err != nil || k.Roles != twinex.RoleTrader|twinex.RoleFundManager || k.Label != "grid bot" || k.AccountID != accts[0].ID ||
		strings.Join(k.Allowlist, ",") != "203.0.113.7/32,2001:db8::/48" || k.Expires != e.now.Add(30*24*time.Hour).UnixNano() {
		t.Fatalf("stored key %+v, %v", k, err)
	}
	if strings.Contains(string(k.Secret), secret[1]) {
		t.Fatal("secret stored in clear")
	}
	entry, err := e.keys.Lookup(t.Context(), id[1])
	if err != nil {
		t.Fatal(err)
	}
	payload := "eyJyZXF1ZXN0IjoiL3YxL2JhbGFuY2VzIn0="
	if !entry.Verify(payload, auth.Sign(secret[1], payload), e.now) {
		t.Fatal("the shown secret does not sign for the key")
	}
	if m := e.mailsTo("cy@example.com"); m[len(m)-1].Subject != "A new API key was created" || strings.Contains(m[len(m)-1].Text, secret[1]) {
		t.Fatalf("notice mail %+v", m[len(m)-1])
	}

	// The list shows the key, never the secret.
	p = b.get("/settings/api")
	wantBody(t, p, id[1], "grid bot", "Trader, Fund Manager", "203.0.113.7/32", "Active")
	if strings.Contains(p.Body, secret[1]) {
		t.Fatal("list shows the secret")
	}

	// Another user cannot touch it.
	o := e.browser("192.0.2.33")
	verifiedUser(t, e, o, "eve@example.com")
	o.get("/settings")
	wantStatus(t, o.post("/settings/api/keys/"+id[1]+"/revoke", nil), http.StatusNotFound)
	wantStatus(t, o.post("/settings/api/keys/"+id[1]+"/rotate", url.Values{"password": {goodPassword}}), http.StatusNotFound)

	// Rotation needs the password, then shows a new secret; the old one
	// works through the grace period.
	b.get("/settings/api")
	p = b.post("/settings/api/keys/"+id[1]+"/rotate", url.Values{"grace": {"1h"}, "password": {"nope nope nope"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	b.get("/settings/api")
	p = b.follow(b.post("/settings/api/keys/"+id[1]+"/rotate", url.Values{"grace": {"1h"}, "password": {goodPassword}}))
	wantStatus(t, p, http.StatusOK)
	secret2 := secretRE.FindStringSubmatch(p.Body)
	if secret2 == nil || secret2[1] == secret[1] {
		t.Fatalf("rotation page:\n%s", p.Body)
	}
	entry, _ = e.keys.Lookup(t.Context(), id[1])
	if !entry.Verify(payload, auth.Sign(secret2[1], payload), e.now) || !entry.Verify(payload, auth.Sign(secret[1], payload), e.now) {
		t.Fatal("after rotation both secrets should sign during the grace period")
	}
	if entry.Verify(payload, auth.Sign(secret[1], payload), e.now.Add(2*time.Hour)) {
		t.Fatal("old secret works after the grace period")
	}

	// Revocation takes effect in the key service at once.
	b.get("/settings/api")
	p = b.post("/settings/api/keys/"+id[1]+"/revoke", nil)
	wantStatus(t, p, http.StatusSeeOther)
	entry, _ = e.keys.Lookup(t.Context(), id[1])
	if rk := entry.Key(); rk.Active(e.now.UnixNano()) {
		t.Fatal("revoked key still active")
	}
	p = b.get("/settings/api?m=key_revoked")
	wantBody(t, p, "The key is revoked", "Revoked")
	p = b.get("/settings")
	wantBody(t, p, "API key created", "API key secret rotated", "API key revoked")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// follow gets the page a redirect points at.
func (b *browser) follow(p page) page {
	b.e.t.Helper()
	if p.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("status %d, want a redirect; body:\n%s", p.StatusCode, p.Body)
	}
	return b.get(p.Header.Get("Location"))
}

func TestEditKey(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.34")
	verifiedUser(t, e, b, "hal@example.com")
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	accts, _ := e.db.Accounts(t.Context(), mustUser(t, e, "hal@example.com").ID)
	b.get("/settings/api")
	p := b.follow(b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {goodPassword}}))
	id := keyIDRE.FindStringSubmatch(p.Body)[1]
	wantBody(t, p, "GEMINI_API_KEY="+id, `src="/static/copy.js"`)

	p = b.get("/settings/api/keys/" + id + "/edit")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `name="roles_trader" checked`)
	p = b.post("/settings/api/keys/"+id+"/edit", url.Values{"roles_auditor": {"on"}, "roles_trader": {"on"}, "expires": {"keep"}, "password": {goodPassword}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "cannot be combined")
	b.get("/settings/api/keys/" + id + "/edit")
	p = b.post("/settings/api/keys/"+id+"/edit", url.Values{"label": {"reader"}, "roles_auditor": {"on"}, "allowlist": {"198.51.100.0/24"}, "expires": {"7"}, "password": {goodPassword}})
	wantStatus(t, p, http.StatusSeeOther)
	entry, err := e.keys.Lookup(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	k := entry.Key()
	if k.Roles != twinex.RoleAuditor || k.Label != "reader" || strings.Join(k.Allowlist, ",") != "198.51.100.0/24" || k.Expires != e.now.Add(7*24*time.Hour).UnixNano() {
		t.Fatalf("after the edit the service has %+v", k)
	}
	if entry.Allows(netip.MustParseAddr("192.0.2.1")) || !entry.Allows(netip.MustParseAddr("198.51.100.9")) {
		t.Fatal("the new allowlist is not in force")
	}

	o := e.browser("192.0.2.35")
	verifiedUser(t, e, o, "ivy@example.com")
	wantStatus(t, o.get("/settings/api/keys/"+id+"/edit"), http.StatusNotFound)

	b.get("/settings/api")
	b.post("/settings/api/keys/"+id+"/revoke", nil)
	wantStatus(t, b.get("/settings/api/keys/"+id+"/edit"), http.StatusGone)
}

func TestAccounts(t *testing.T) {
	e := newEnv(t)
	b := e.browser("192.0.2.36")
	verifiedUser(t, e, b, "kim@example.com")
	p := b.get("/settings/accounts")
	wantBody(t, p, "<code>primary</code>")
	p = b.post("/settings/accounts", url.Values{"name": {"Market Making"}})
	wantStatus(t, p, http.StatusSeeOther)
	p = b.get("/settings/accounts?m=account_created")
	wantBody(t, p, "Market Making", "<code>market-making</code>", "The account is added")
	for name, want := range map[string]string{"": "Enter a name.", "market making": "already have an account called market-making", "!!!": "letters or digits", strings.Repeat("a", 101): "at most 100"} {
		b.get("/settings/accounts")
		p = b.post("/settings/accounts", url.Values{"name": {name}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantBody(t, p, want)
	}
	if list, _ := e.db.Accounts(t.Context(), mustUser(t, e, "kim@example.com").ID); len(list) != 2 {
		t.Fatalf("%d accounts", len(list))
	}
}

func TestActivityPage(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.37")
	verifiedUser(t, e, b, "ned@example.com")
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	accts, _ := e.db.Accounts(t.Context(), mustUser(t, e, "ned@example.com").ID)
	b.get("/settings/api")
	p := b.follow(b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {goodPassword}}))
	id := keyIDRE.FindStringSubmatch(p.Body)[1]
	p = b.get("/settings/activity")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "API key created", "<code>"+id+"</code>", "Identity verified", "Account created", "<code>192.0.2.37</code>")
}

func TestAPIActivityPage(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.38")
	verifiedUser(t, e, b, "ola@example.com")
	u := mustUser(t, e, "ola@example.com")
	o := e.browser("192.0.2.39")
	verifiedUser(t, e, o, "pat@example.com")
	other := mustUser(t, e, "pat@example.com")
	var recs []twinex.Activity
	for i := range 150 {
		// Three records share each time: paging must not skip or repeat.
		a := twinex.Activity{Time: e.now.Add(-time.Duration(i/3) * time.Minute).UnixNano(), KeyID: "account-aaaa", UserID: u.ID, IP: "203.0.113.5",
			Method: "POST", Path: "/v1/balances", Status: 200}
		if i%10 == 0 {
			a.Reason, a.Status, a.IP = "InvalidSignature", 400, "198.51.100.66"
		}
		recs = append(recs, a)
	}
	recs = append(recs, twinex.Activity{Time: e.now.UnixNano(), KeyID: "account-bbbb", UserID: other.ID, IP: "192.0.2.99", Method: "POST", Path: "/v1/secret-of-pat", Status: 200})
	if err := e.db.AddActivity(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	p := b.get("/settings/api/activity")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Older requests", "InvalidSignature", "203.0.113.5")
	if strings.Contains(p.Body, "secret-of-pat") {
		t.Fatal("another user's activity shown")
	}
	if n := strings.Count(p.Body, "<code>POST /v1/balances</code>"); n != 100 {
		t.Fatalf("first page has %d rows", n)
	}
	next := regexp.MustCompile(`href="(/settings/api/activity\?[^"]+)">Older requests`).FindStringSubmatch(p.Body)
	p = b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if n := strings.Count(p.Body, "<code>POST /v1/balances</code>"); n != 50 || strings.Contains(p.Body, "Older requests") {
		t.Fatalf("second page has %d rows", n)
	}
	// A window stays fixed while paging: the link carries it as a time.
	p = b.get("/settings/api/activity?since=1h")
	if !strings.Contains(p.Body, "since_ns=") {
		t.Fatal("the next-page link does not fix the window")
	}
	if n := strings.Count(p.Body, "<code>POST /v1/balances</code>"); n != 100 {
		t.Fatalf("second page has %d rows", n)
	}
	p = b.get("/settings/api/activity?outcome=error&format=json")
	if p.Header.Get("Content-Type") != "application/json" || strings.Count(p.Body, `"outcome": "InvalidSignature"`) != 15 || strings.Contains(p.Body, `"outcome": "ok"`) {
		t.Fatalf("json export:\n%.400s", p.Body)
	}
	p = b.get("/settings/api/activity?ip=203.0.113.5&since=1h&format=csv")
	lines := strings.Split(strings.TrimSpace(p.Body), "\n")
	if lines[0] != "time,key,account,ip,method,path,outcome,status,latency_us" || len(lines) != 1+135 {
		t.Fatalf("csv export has %d lines; first %q", len(lines), lines[0])
	}
}

func TestKeyExpiryOnADate(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.36")
	verifiedUser(t, e, b, "jo@example.com")
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	accts, _ := e.db.Accounts(t.Context(), mustUser(t, e, "jo@example.com").ID)
	create := func(on string) page {
		b.get("/settings/api")
		return b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {goodPassword},
			"expires": {"date"}, "expires_on": {on}})
	}
	// e.now is 2025-03-01 12:00 UTC.
	for _, bad := range []string{"", "2025-02-28", "2031-01-01", "1 March", "2025-13-01"} {
		p := create(bad)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantBody(t, p, "Choose a date from today to 5 years from now")
	}
	// A date entered while the choice says something else is not ignored.
	b.get("/settings/api")
	p := b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {goodPassword},
		"expires": {""}, "expires_on": {"2025-06-01"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "choose “On a date” to use it")
	// Today is allowed: the key works until the end of the day.
	p = b.follow(create("2025-03-01"))
	id := keyIDRE.FindStringSubmatch(p.Body)[1]
	k, _ := e.db.Key(t.Context(), id)
	if want := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC).UnixNano(); k.Expires != want {
		t.Fatalf("expires %v", time.Unix(0, k.Expires).UTC())
	}
	b.get("/settings/api/keys/" + id + "/edit")
	wantStatus(t, b.post("/settings/api/keys/"+id+"/edit", url.Values{"roles_trader": {"on"}, "expires": {"keep"}, "expires_on": {"2026-07-15"}, "password": {goodPassword}}), http.StatusUnprocessableEntity)
	b.get("/settings/api/keys/" + id + "/edit")
	wantStatus(t, b.post("/settings/api/keys/"+id+"/edit", url.Values{"roles_trader": {"on"}, "expires": {"date"}, "expires_on": {"2026-07-15"}, "password": {goodPassword}}), http.StatusSeeOther)
	k, _ = e.db.Key(t.Context(), id)
	if want := time.Date(2026, 7, 16, 0, 0, 0, 0, time.UTC).UnixNano(); k.Expires != want {
		t.Fatalf("expires after the edit %v", time.Unix(0, k.Expires).UTC())
	}
}
