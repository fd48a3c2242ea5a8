package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/web"
)

var (
	mfaSecretRE = regexp.MustCompile(`data-copy="mfa-secret" data-copy-value="([A-Z2-7]+)"`)
	recoveryRE  = regexp.MustCompile(`<li><code>([0-9a-z-]+)</code></li>`)
)

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTwoFactor(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.40")
	verifiedUser(t, e, b, "dee@example.com")

	p := b.get("/settings/mfa")
	wantBody(t, p, `src="data:image/png;base64,`, "Turn on")
	m := mfaSecretRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", p.Body)
	}
	seen := m[1]
	// Each view makes a new secret, so one seen elsewhere (by another
	// session) never becomes the second factor; a refused code shows the
	// same one again.
	m = mfaSecretRE.FindStringSubmatch(b.get("/settings/mfa").Body)
	if m == nil || m[1] == seen {
		t.Fatal("the enrolment did not change on a new view")
	}
	secret := m[1]
	p = b.post("/settings/mfa", url.Values{"code": {code(t, seen, e.now)}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	if again := mfaSecretRE.FindStringSubmatch(p.Body); again == nil || again[1] != secret {
		t.Fatal("a refused code changed the secret")
	}
	p = b.post("/settings/mfa", url.Values{"code": {code(t, secret, e.now)}})
	wantStatus(t, p, http.StatusOK)
	codes := recoveryRE.FindAllStringSubmatch(p.Body, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes:\n%s", len(codes), p.Body)
	}
	if m := e.mailsTo("dee@example.com"); m[len(m)-1].Subject != "Two-factor authentication is on" {
		t.Fatalf("mail %q", m[len(m)-1].Subject)
	}
	wantBody(t, b.get("/settings"), `<span class="badge badge-ok">On</span>`)

	// A password alone no longer signs in.
	b.get("/settings")
	b.post("/logout", nil)
	p = b.login("dee@example.com", goodPassword)
	if loc := p.Header.Get("Location"); loc != "/login/mfa" {
		t.Fatalf("login redirects to %q", loc)
	}
	if p = b.get("/settings"); p.Header.Get("Location") != "/login/mfa" {
		t.Fatalf("settings before the code: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	b.get("/login/mfa")
	wantStatus(t, b.post("/settings/api/keys", url.Values{"roles_trader": {"on"}}), http.StatusUnauthorized)
	b.get("/login/mfa")
	// The code that enabled it was used: it is refused, as is a wrong one.
	wantStatus(t, b.post("/login/mfa", url.Values{"code": {code(t, secret, e.now)}}), http.StatusUnauthorized)
	wantStatus(t, b.post("/login/mfa", url.Values{"code": {"123456"}}), http.StatusUnauthorized)
	e.advance(30 * time.Second)
	c := code(t, secret, e.now)
	p = b.post("/login/mfa", url.Values{"code": {c}})
	wantStatus(t, p, http.StatusSeeOther)
	if !b.signedIn() {
		t.Fatal("not signed in after the code")
	}

	// A recovery code works once.
	b.post("/logout", nil)
	b.login("dee@example.com", goodPassword)
	b.get("/login/mfa")
	wantStatus(t, b.post("/login/mfa", url.Values{"code": {codes[0][1]}}), http.StatusSeeOther)
	if !b.signedIn() {
		t.Fatal("recovery code did not sign in")
	}
	b.post("/logout", nil)
	b.login("dee@example.com", goodPassword)
	b.get("/login/mfa")
	wantStatus(t, b.post("/login/mfa", url.Values{"code": {codes[0][1]}}), http.StatusUnauthorized)
	wantStatus(t, b.post("/login/mfa", url.Values{"code": {codes[1][1]}}), http.StatusSeeOther)
	wantBody(t, b.get("/settings/mfa"), "8 unused recovery codes left")

	// Five wrong codes lock the second step, even with a right one after.
	b.post("/logout", nil)
	b.login("dee@example.com", goodPassword)
	b.get("/login/mfa")
	for range 5 {
		b.post("/login/mfa", url.Values{"code": {"000000"}})
	}
	e.advance(30 * time.Second)
	wantStatus(t, b.post("/login/mfa", url.Values{"code": {code(t, secret, e.now)}}), http.StatusTooManyRequests)
	e.advance(16 * time.Minute)
	wantStatus(t, b.post("/login/mfa", url.Values{"code": {code(t, secret, e.now)}}), http.StatusSeeOther)

	// Turning it off needs the password and a code.
	b.get("/settings/mfa")
	wantStatus(t, b.post("/settings/mfa/disable", url.Values{"password": {goodPassword}, "code": {"000000"}}), http.StatusUnprocessableEntity)
	e.advance(30 * time.Second)
	b.get("/settings/mfa")
	p = b.post("/settings/mfa/disable", url.Values{"password": {goodPassword}, "code": {code(t, secret, e.now)}})
	wantStatus(t, p, http.StatusSeeOther)
	b.post("/logout", nil)
	if p = b.login("dee@example.com", goodPassword); p.Header.Get("Location") != "/" {
		t.Fatalf("after turning it off, login redirects to %q", p.Header.Get("Location"))
	}
	wantBody(t, b.get("/settings"), "Two-factor authentication turned off")
	log, _ := e.db.AuditLog(t.Context(), mustUser(t, e, "dee@example.com").ID, 100)
	actions := map[string]int{}
	for _, ev := range log {
		actions[ev.Action]++
	}
	if actions["recovery_used"] != 2 || actions["mfa_failed"] < 7 || actions["mfa_enabled"] != 1 || actions["mfa_disabled"] != 1 {
		t.Fatalf("audit log %v", actions)
	}
}

func TestKeyCreationAsksForCode(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.41")
	verifiedUser(t, e, b, "fay@example.com")
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	secret := mfaSecretRE.FindStringSubmatch(b.get("/settings/mfa").Body)[1]
	b.post("/settings/mfa", url.Values{"code": {code(t, secret, e.now)}})
	accts, _ := e.db.Accounts(t.Context(), mustUser(t, e, "fay@example.com").ID)
	scope := itoa(accts[0].ID)

	p := b.get("/settings/api")
	wantBody(t, p, "Code from your authenticator app")
	p = b.post("/settings/api/keys", url.Values{"scope": {scope}, "roles_trader": {"on"}, "password": {goodPassword}, "code": {"000000"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Enter the code from your authenticator app")
	e.advance(30 * time.Second)
	b.get("/settings/api")
	p = b.follow(b.post("/settings/api/keys", url.Values{"scope": {scope}, "roles_trader": {"on"}, "password": {goodPassword}, "code": {code(t, secret, e.now)}}))
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.Body, `id="key-secret"`) {
		t.Fatal("no secret after a right code")
	}
	id := keyIDRE.FindStringSubmatch(p.Body)[1]

	// Wrong codes at confirmations count like the login's: five lock.
	for range 5 {
		b.get("/settings/api")
		b.post("/settings/api/keys", url.Values{"scope": {scope}, "roles_trader": {"on"}, "password": {goodPassword}, "code": {"111111"}})
	}
	e.advance(30 * time.Second)
	b.get("/settings/api")
	p = b.post("/settings/api/keys", url.Values{"scope": {scope}, "roles_trader": {"on"}, "password": {goodPassword}, "code": {code(t, secret, e.now)}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Too many wrong codes")
	e.advance(16 * time.Minute)

	// Revoking asks for a code too.
	p = b.get("/settings/api")
	wantBody(t, p, `id="revoke-code-`+id+`"`)
	wantStatus(t, b.post("/settings/api/keys/"+id+"/revoke", url.Values{"code": {"000000"}}), http.StatusUnprocessableEntity)
	if k, _ := e.db.Key(t.Context(), id); k.Revoked != 0 {
		t.Fatal("revoked without a right code")
	}
	e.advance(30 * time.Second)
	b.get("/settings/api")
	wantStatus(t, b.post("/settings/api/keys/"+id+"/revoke", url.Values{"code": {code(t, secret, e.now)}}), http.StatusSeeOther)
	if k, _ := e.db.Key(t.Context(), id); k.Revoked == 0 {
		t.Fatal("not revoked with a right code")
	}
}

func TestConfirmPasswordIsThrottled(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.42")
	verifiedUser(t, e, b, "gus@example.com")
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	accts, _ := e.db.Accounts(t.Context(), mustUser(t, e, "gus@example.com").ID)
	for range 5 {
		b.get("/settings/api")
		b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {"guess guess guess"}})
	}
	b.get("/settings/api")
	p := b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {goodPassword}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Too many wrong passwords")
}

func mustUser(t *testing.T, e *env, email string) twinex.User {
	t.Helper()
	u, err := e.db.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A right code used a moment earlier (create a key, then edit it within
// 30 seconds) is refused with a message that says so, and does not count
// as a wrong code.
func TestUsedCodeSaysSo(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.44")
	verifiedUser(t, e, b, "hal@example.com")
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	p := b.get("/settings/mfa")
	wantBody(t, p, `class="mfa-key"`, "Copy key")
	secret := mfaSecretRE.FindStringSubmatch(p.Body)[1]
	if !strings.Contains(p.Body, secret[:4]+" "+secret[4:8]) {
		t.Fatal("the manual key is not grouped")
	}
	p = b.post("/settings/mfa", url.Values{"code": {code(t, secret, e.now)}})
	wantBody(t, p, `download="twinex-recovery-codes.txt"`, "data-print", `data-copy="recovery-codes"`)
	accts, _ := e.db.Accounts(t.Context(), mustUser(t, e, "hal@example.com").ID)
	for range 6 {
		b.get("/settings/api")
		p = b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {goodPassword}, "code": {code(t, secret, e.now)}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantBody(t, p, "That code was used a moment ago", "Wait for the next code")
	}
	e.advance(30 * time.Second)
	b.get("/settings/api")
	p = b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {goodPassword}, "code": {code(t, secret, e.now)}})
	wantStatus(t, p, http.StatusSeeOther)
}
