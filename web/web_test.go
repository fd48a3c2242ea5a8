package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/api"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/password"
	"github.com/twinex/twinex/sqlite"
	"github.com/twinex/twinex/watch"
	"github.com/twinex/twinex/web"
)

// env is a dashboard on a real SQLite store with a pinned clock and a
// captured mailbox.
type env struct {
	t     *testing.T
	srv   *web.Server
	h     http.Handler
	db    *sqlite.DB
	keys  *keys.Service
	base  string
	mu    sync.Mutex
	now   time.Time
	mails []mail
}

type mail struct{ To, Subject, Text string }

func newEnv(t *testing.T, configure ...func(*web.Server)) *env {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "twinex.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, base: "http://twinex.test", now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	sealer, err := auth.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	e.keys = &keys.Service{Store: db, Sealer: sealer, Now: func() time.Time {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.now
	}}
	// As the app wires it: a revoked key's alerts are dismissed.
	e.keys.OnRevoke = (&watch.Watcher{Store: db, Accounts: db}).KeyRevoked
	e.srv = &web.Server{
		Store: db, Accounts: db, Keys: e.keys, Identities: db, ActivityLog: db, Sealer: sealer, Markets: twinex.DefaultMarkets(), BaseURL: "http://twinex.test",
		Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.now
		},
		Mail: func(ctx context.Context, to, subject, text string) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.mails = append(e.mails, mail{to, subject, text})
			return nil
		},
	}
	for _, f := range configure {
		f(e.srv)
	}
	if e.srv.Secure {
		e.base = "https://twinex.test"
	}
	e.h = e.srv.Handler()
	return e
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// mailsTo returns the messages sent to an address.
func (e *env) mailsTo(to string) []mail {
	e.srv.DrainMail(context.Background()) // the queued reset requests, as Run would
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []mail
	for _, m := range e.mails {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

var linkRE = regexp.MustCompile(`https?://twinex\.test/\S+`)

// link returns the link in the last message to an address.
func (e *env) link(to string) string {
	e.t.Helper()
	ms := e.mailsTo(to)
	if len(ms) == 0 {
		e.t.Fatalf("no mail to %s", to)
	}
	l := linkRE.FindString(ms[len(ms)-1].Text)
	if l == "" {
		e.t.Fatalf("no link in mail to %s: %q", to, ms[len(ms)-1].Text)
	}
	return l
}

// browser keeps cookies and the CSRF token of the last page, and calls the
// handler directly so that each browser has its own address.
type browser struct {
	e    *env
	jar  *cookiejar.Jar
	ip   string
	csrf string
}

func (e *env) browser(ip string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, jar: jar, ip: ip}
}

type page struct {
	*http.Response
	Body string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	req.RemoteAddr = b.ip + ":40000"
	for _, c := range b.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.e.h.ServeHTTP(rec, req)
	resp := rec.Result()
	b.jar.SetCookies(req.URL, resp.Cookies())
	body, _ := io.ReadAll(resp.Body)
	p := page{resp, string(body)}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (b *browser) get(target string) page {
	b.e.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.e.base + target
	}
	return b.do(httptest.NewRequest(http.MethodGet, target, nil))
}

// post submits a form with the CSRF token of the last page.
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	return b.postRaw(path, form)
}

// postRaw submits a form as given.
func (b *browser) postRaw(path string, form url.Values) page {
	b.e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, b.e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) session() string {
	u, _ := url.Parse(b.e.base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "twinex_session" {
			return c.Value
		}
	}
	return ""
}

const goodPassword = "correct horse battery"

func wantStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("status %d, want %d; body:\n%s", p.StatusCode, status, p.Body)
	}
}

func wantBody(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page lacks %q; body:\n%s", s, p.Body)
		}
	}
}

func (b *browser) signup(email, pw string) page {
	b.e.t.Helper()
	b.get("/signup")
	return b.post("/signup", url.Values{"email": {email}, "password": {pw}, "confirm": {pw}})
}

func (b *browser) login(email, pw string) page {
	b.e.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"email": {email}, "password": {pw}})
}

// signedIn reports whether the browser's session is live.
func (b *browser) signedIn() bool {
	b.e.t.Helper()
	p := b.get("/settings")
	return p.StatusCode == http.StatusOK
}

func TestSignupVerifyLogin(t *testing.T) {
	e := newEnv(t)
	b := e.browser("192.0.2.10")
	p := b.signup("Ann@Example.com", goodPassword)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Check your email", "ann@example.com")
	link := e.link("ann@example.com")
	if !strings.HasPrefix(link, "http://twinex.test/verify?token=") {
		t.Fatalf("verify link %q", link)
	}
	if got := e.mailsTo("ann@example.com")[0].Subject; got != "Verify your email address" {
		t.Fatalf("subject %q", got)
	}

	// Not yet verified: the login works, the settings say so.
	p = b.login("ann@example.com", goodPassword)
	wantStatus(t, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/" {
		t.Fatalf("login redirects to %q", loc)
	}
	p = b.get("/settings")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "ann@example.com", "Not verified", "Send a new link", "Not started")

	p = b.get(link)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Email verified")
	p = b.get("/settings")
	wantBody(t, p, `ann@example.com`, `<span class="badge badge-ok">Verified</span>`, "Verify your identity", "Email address verified", "Logged in")
	if strings.Contains(p.Body, "Not verified") {
		t.Fatal("settings still say not verified")
	}
	// The link works once.
	p = b.get(link)
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "This link cannot be used")

	// The overview knows the user too.
	p = b.get("/")
	wantBody(t, p, "Overview", "Signed in as <strong>ann@example.com</strong>", "<code>primary</code>")
}

func TestVerifyLinkExpires(t *testing.T) {
	e := newEnv(t)
	b := e.browser("192.0.2.10")
	b.signup("ann@example.com", goodPassword)
	link := e.link("ann@example.com")
	e.advance(24*time.Hour + time.Second)
	wantStatus(t, b.get(link), http.StatusBadRequest)
	// A new link can be asked for from the settings.
	wantStatus(t, b.login("ann@example.com", goodPassword), http.StatusSeeOther)
	b.get("/settings")
	p := b.post("/verify/resend", nil)
	wantStatus(t, p, http.StatusSeeOther)
	wantBody(t, b.get("/settings?m=verify_sent"), "We sent a new verification link")
	link2 := e.link("ann@example.com")
	if link2 == link {
		t.Fatal("resend reused the link")
	}
	wantStatus(t, b.get(link2), http.StatusOK)
}

func TestSignupExistingEmailTellsOnlyTheMailbox(t *testing.T) {
	e := newEnv(t)
	first := e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	second := e.browser("192.0.2.11").signup("ann@example.com", "another fine passphrase")
	wantStatus(t, second, http.StatusOK)
	if first.Body != second.Body {
		t.Fatalf("the pages differ:\n%s\n---\n%s", first.Body, second.Body)
	}
	ms := e.mailsTo("ann@example.com")
	if len(ms) != 2 || !strings.Contains(ms[1].Text, "you already have one") || strings.Contains(ms[1].Text, "token=") {
		t.Fatalf("mails: %+v", ms)
	}
	// The first password still works; the second never did.
	b := e.browser("192.0.2.12")
	wantStatus(t, b.login("ann@example.com", "another fine passphrase"), http.StatusUnauthorized)
	wantStatus(t, b.login("ann@example.com", goodPassword), http.StatusSeeOther)
}

func TestSignupRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name, email, pw, confirm, field, msg string
	}{
		{"invalid email", "not-an-email", goodPassword, goodPassword, "email", "valid email address"},
		{"email with name", "Ann <ann@example.com>", goodPassword, goodPassword, "email", "valid email address"},
		{"no email", "", goodPassword, goodPassword, "email", "Enter your email"},
		{"short", "ann@example.com", "Sh0rt!", "Sh0rt!", "password", "at least 10 characters"},
		{"common", "ann@example.com", "password123", "password123", "password", "too common"},
		{"digits", "ann@example.com", "1234567890", "1234567890", "password", "too common"},
		{"email in password", "annabelle@example.com", "annabelle-rocks", "annabelle-rocks", "password", "email address"},
		{"common with a suffix", "ann@example.com", "qwertyuiop2024!", "qwertyuiop2024!", "password", "too common"},
		{"mismatch", "ann@example.com", goodPassword, goodPassword + "x", "confirm", "do not match"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser("192.0.2.10")
			b.get("/signup")
			p := b.post("/signup", url.Values{"email": {c.email}, "password": {c.pw}, "confirm": {c.confirm}})
			wantStatus(t, p, http.StatusUnprocessableEntity)
			wantBody(t, p, c.msg, `id="`+c.field+`-error"`, `aria-invalid="true"`, `role="alert"`)
			if !regexp.MustCompile(`aria-describedby="[^"]*` + c.field + `-error"`).MatchString(p.Body) {
				t.Fatalf("the %s input is not described by its error:\n%s", c.field, p.Body)
			}
			if strings.Contains(p.Body, c.pw) && c.field != "email" {
				t.Fatal("the page shows the password back")
			}
		})
	}
	if _, err := e.db.UserByEmail(context.Background(), "ann@example.com"); err == nil {
		t.Fatal("a refused sign-up created a user")
	}
	if len(e.mails) != 0 {
		t.Fatalf("refused sign-ups sent mail: %+v", e.mails)
	}
	// The page's checks are password.CheckFor's.
	for _, pw := range []string{"Sh0rt!", "password123", "annabelle-rocks"} {
		if password.CheckFor(pw, "annabelle@example.com") == nil {
			t.Fatalf("password.CheckFor accepts %q", pw)
		}
	}
}

func TestLoginWrongPassword(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	b := e.browser("192.0.2.11")
	wrong := b.login("ann@example.com", "not the password")
	wantStatus(t, wrong, http.StatusUnauthorized)
	wantBody(t, wrong, "The email address or password is incorrect.")
	if b.session() != "" {
		t.Fatal("a failed login set a session")
	}
	unknown := b.login("bob@example.com", "not the password")
	wantStatus(t, unknown, http.StatusUnauthorized)
	wantBody(t, unknown, "The email address or password is incorrect.")
	if b.signedIn() {
		t.Fatal("signed in after failed logins")
	}
}

func TestLockoutAfterFiveFailures(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	b := e.browser("192.0.2.11")
	for i := range 5 {
		wantStatus(t, b.login("ann@example.com", "wrong password "+string(rune('a'+i))), http.StatusUnauthorized)
		e.advance(time.Minute)
	}
	// Locked, even with the right password and from another address.
	p := e.browser("192.0.2.12").login("ann@example.com", goodPassword)
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Too many failed attempts", "reset it")
	// An email without an account locks the same way.
	for range 5 {
		b.login("nobody@example.com", "wrong password")
	}
	wantStatus(t, b.login("nobody@example.com", "wrong password"), http.StatusTooManyRequests)

	// The lock ends 15 minutes after the fifth failure (1 minute ago).
	e.advance(13 * time.Minute)
	wantStatus(t, b.login("ann@example.com", goodPassword), http.StatusTooManyRequests)
	e.advance(time.Minute + time.Second)
	wantStatus(t, b.login("ann@example.com", goodPassword), http.StatusSeeOther)
}

func TestLockoutPerAddress(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	attacker := e.browser("198.51.100.7")
	for i := range 20 {
		email := "user" + string(rune('a'+i)) + "@example.com"
		wantStatus(t, attacker.login(email, "guess guess guess"), http.StatusUnauthorized)
	}
	wantStatus(t, attacker.login("ann@example.com", goodPassword), http.StatusTooManyRequests)
	// Ann, from her own address, is not affected.
	wantStatus(t, e.browser("192.0.2.10").login("ann@example.com", goodPassword), http.StatusSeeOther)
	e.advance(15*time.Minute + time.Second)
	wantStatus(t, attacker.login("ann@example.com", goodPassword), http.StatusSeeOther)
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	b := e.browser("192.0.2.11")
	b.get("/login")
	creds := url.Values{"email": {"ann@example.com"}, "password": {goodPassword}}
	for name, token := range map[string]string{"missing": "", "wrong": "AAAA", "other browser": csrfOf(e)} {
		t.Run(name, func(t *testing.T) {
			form := url.Values{"csrf": {token}}
			for k, v := range creds {
				form[k] = v
			}
			p := b.postRaw("/login", form)
			wantStatus(t, p, http.StatusForbidden)
			wantBody(t, p, "This request was refused", "security token")
		})
	}
	if b.session() != "" {
		t.Fatal("a refused login set a session")
	}

	// Signed in: logout and every other form need the session's token.
	wantStatus(t, b.login("ann@example.com", goodPassword), http.StatusSeeOther)
	for _, path := range []string{"/logout", "/verify/resend", "/settings/sessions/revoke", "/signup", "/forgot", "/reset"} {
		wantStatus(t, b.postRaw(path, url.Values{}), http.StatusForbidden)
	}
	if !b.signedIn() {
		t.Fatal("a refused logout signed out")
	}
	// A pre-session cookie planted beside the session (by a sibling
	// subdomain, say), with the token derived from it, is refused: a
	// signed-in request needs the session's token.
	planted := e.browser("192.0.2.98")
	planted.get("/login")
	u, _ := url.Parse(e.base)
	for _, c := range planted.jar.Cookies(u) {
		if c.Name == "twinex_csrf" {
			b.jar.SetCookies(u, []*http.Cookie{c})
		}
	}
	wantStatus(t, b.postRaw("/logout", url.Values{"csrf": {planted.csrf}}), http.StatusForbidden)
	if !b.signedIn() {
		t.Fatal("a token from a planted cookie signed out")
	}
	b.get("/settings")
	// A cross-site request is refused even with the right token.
	req := httptest.NewRequest(http.MethodPost, e.base+"/logout", strings.NewReader(url.Values{"csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, b.do(req), http.StatusForbidden)
	// The token in a header works too.
	req = httptest.NewRequest(http.MethodPost, e.base+"/logout", nil)
	req.Header.Set("X-CSRF-Token", b.csrf)
	wantStatus(t, b.do(req), http.StatusSeeOther)
	if b.signedIn() {
		t.Fatal("still signed in after logout")
	}
}

// csrfOf returns the token another browser's login form carries.
func csrfOf(e *env) string {
	o := e.browser("192.0.2.99")
	o.get("/login")
	return o.csrf
}

func TestPasswordReset(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	old := e.browser("192.0.2.10")
	wantStatus(t, old.login("ann@example.com", goodPassword), http.StatusSeeOther)

	b := e.browser("192.0.2.11")
	b.get("/forgot")
	p := b.post("/forgot", url.Values{"email": {"ann@example.com"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Check your email")
	// An unknown email gets the same page, and no mail.
	nobody := e.browser("192.0.2.12")
	nobody.get("/forgot")
	p2 := nobody.post("/forgot", url.Values{"email": {"nobody@example.com"}})
	if strings.ReplaceAll(p2.Body, "nobody@example.com", "ann@example.com") != p.Body {
		t.Fatal("forgot pages differ for known and unknown emails")
	}
	if len(e.mailsTo("nobody@example.com")) != 0 {
		t.Fatal("mail sent to an unknown email")
	}
	link := e.link("ann@example.com")
	if !strings.HasPrefix(link, "http://twinex.test/reset?token=") {
		t.Fatalf("reset link %q", link)
	}

	p = b.get(link)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Choose a new password")
	token := strings.TrimPrefix(link, "http://twinex.test/reset?token=")
	// A weak new password is refused, and the link still works after.
	p = b.post("/reset", url.Values{"token": {token}, "password": {"password123"}, "confirm": {"password123"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "too common")
	newPW := "a brand new passphrase"
	p = b.post("/reset", url.Values{"token": {token}, "password": {newPW}, "confirm": {newPW}})
	wantStatus(t, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/login?m=password_reset" {
		t.Fatalf("reset redirects to %q", loc)
	}
	wantBody(t, b.get("/login?m=password_reset"), "Your password has been changed")

	if old.signedIn() {
		t.Fatal("a session survived the password reset")
	}
	wantStatus(t, e.browser("192.0.2.13").login("ann@example.com", goodPassword), http.StatusUnauthorized)
	wantStatus(t, e.browser("192.0.2.14").login("ann@example.com", newPW), http.StatusSeeOther)
	if ms := e.mailsTo("ann@example.com"); !strings.Contains(ms[len(ms)-2].Subject, "password was changed") || ms[len(ms)-1].Subject != "New login from 192.0.2.14" {
		t.Fatalf("want the change notice, then the new-address notice: %+v", ms[len(ms)-2:])
	}

	// Single use.
	wantStatus(t, b.get(link), http.StatusBadRequest)
	b.get("/login")
	p = b.post("/reset", url.Values{"token": {token}, "password": {"yet another passphrase"}, "confirm": {"yet another passphrase"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "Request a new reset link")

	// Expired after an hour.
	b.get("/forgot")
	b.post("/forgot", url.Values{"email": {"ann@example.com"}})
	link = e.link("ann@example.com")
	e.advance(time.Hour + time.Second)
	wantStatus(t, b.get(link), http.StatusBadRequest)
	token = strings.TrimPrefix(link, "http://twinex.test/reset?token=")
	b.get("/login")
	p = b.post("/reset", url.Values{"token": {token}, "password": {"yet another passphrase"}, "confirm": {"yet another passphrase"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantStatus(t, e.browser("192.0.2.15").login("ann@example.com", newPW), http.StatusSeeOther)
}

func TestResetLiftsLockout(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	b := e.browser("192.0.2.11")
	for range 5 {
		b.login("ann@example.com", "wrong password")
	}
	wantStatus(t, b.login("ann@example.com", goodPassword), http.StatusTooManyRequests)
	b.get("/forgot")
	b.post("/forgot", url.Values{"email": {"ann@example.com"}})
	b.get(e.link("ann@example.com"))
	newPW := "a brand new passphrase"
	token := strings.TrimPrefix(e.link("ann@example.com"), "http://twinex.test/reset?token=")
	wantStatus(t, b.post("/reset", url.Values{"token": {token}, "password": {newPW}, "confirm": {newPW}}), http.StatusSeeOther)
	wantStatus(t, e.browser("192.0.2.12").login("ann@example.com", newPW), http.StatusSeeOther)
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	b := e.browser("192.0.2.10")
	wantStatus(t, b.login("ann@example.com", goodPassword), http.StatusSeeOther)
	token := b.session()
	b.get("/settings")
	p := b.post("/logout", nil)
	wantStatus(t, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/login?m=logged_out" {
		t.Fatalf("logout redirects to %q", loc)
	}
	if c := cookieNamed(p.Response, "twinex_session"); c == nil || c.MaxAge >= 0 {
		t.Fatalf("logout does not clear the cookie: %+v", c)
	}
	if b.signedIn() {
		t.Fatal("signed in after logout")
	}
	// Replaying the old cookie does not bring the session back.
	replay := e.browser("192.0.2.10")
	u, _ := url.Parse(e.base)
	replay.jar.SetCookies(u, []*http.Cookie{{Name: "twinex_session", Value: token, Path: "/"}})
	p = replay.get("/settings")
	wantStatus(t, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/login" {
		t.Fatalf("signed-out settings redirect to %q", loc)
	}
}

func cookieNamed(r *http.Response, name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "tls"}[secure], func(t *testing.T) {
			e := newEnv(t, func(s *web.Server) { s.Secure = secure })
			e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
			b := e.browser("192.0.2.10")
			p := b.login("ann@example.com", goodPassword)
			wantStatus(t, p, http.StatusSeeOther)
			c := cookieNamed(p.Response, "twinex_session")
			if c == nil {
				t.Fatal("no session cookie")
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure || len(c.Value) < 43 {
				t.Fatalf("cookie %+v", c)
			}
			first := c.Value
			// Logging in again from the same browser renews the id and
			// ends the old session.
			b.get("/settings")
			b.jar.SetCookies(&url.URL{Scheme: "http", Host: "twinex.test"}, nil)
			req := httptest.NewRequest(http.MethodPost, e.base+"/login", strings.NewReader(url.Values{"csrf": {b.csrf},
				"email": {"ann@example.com"}, "password": {goodPassword}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			p = b.do(req)
			wantStatus(t, p, http.StatusSeeOther)
			c = cookieNamed(p.Response, "twinex_session")
			if c == nil || c.Value == first {
				t.Fatalf("session not renewed at login: %+v", c)
			}
			stale := e.browser("192.0.2.10")
			u, _ := url.Parse(e.base)
			stale.jar.SetCookies(u, []*http.Cookie{{Name: "twinex_session", Value: first, Path: "/"}})
			if stale.signedIn() {
				t.Fatal("the session from before the new login still works")
			}
			if !b.signedIn() {
				t.Fatal("the renewed session does not work")
			}
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	b := e.browser("192.0.2.10")
	b.login("ann@example.com", goodPassword)
	e.advance(web.SessionIdle - time.Second)
	if !b.signedIn() {
		t.Fatal("signed out before the idle limit")
	}
	e.advance(web.SessionIdle)
	if b.signedIn() {
		t.Fatal("still signed in after the idle limit")
	}

	b.login("ann@example.com", goodPassword)
	for elapsed := time.Duration(0); elapsed < web.SessionLifetime-20*time.Minute; elapsed += 20 * time.Minute {
		e.advance(20 * time.Minute)
		if !b.signedIn() {
			t.Fatalf("signed out after %v of activity", elapsed)
		}
	}
	e.advance(20 * time.Minute)
	if b.signedIn() {
		t.Fatal("still signed in after the absolute limit")
	}
}

func TestRevokeOtherSessions(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	phone, laptop := e.browser("192.0.2.20"), e.browser("192.0.2.21")
	phone.login("ann@example.com", goodPassword)
	laptop.login("ann@example.com", goodPassword)
	p := laptop.get("/settings")
	wantBody(t, p, "192.0.2.20", "192.0.2.21", "This session", "Sign out all other sessions")
	wantStatus(t, laptop.post("/settings/sessions/revoke", nil), http.StatusSeeOther)
	if phone.signedIn() {
		t.Fatal("the other session survived")
	}
	if !laptop.signedIn() {
		t.Fatal("the current session was signed out")
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	b := e.browser("192.0.2.10")
	b.login("ann@example.com", goodPassword)
	anon := e.browser("192.0.2.11")
	pages := map[string]page{
		"home":         anon.get("/"),
		"login":        anon.get("/login"),
		"signup":       anon.get("/signup"),
		"forgot":       anon.get("/forgot"),
		"reset":        anon.get("/reset?token=nope"),
		"verify":       anon.get("/verify?token=nope"),
		"not found":    anon.get("/no/such/page"),
		"static":       anon.get("/static/style.css"),
		"csrf refusal": anon.postRaw("/login", url.Values{}),
		"settings":     b.get("/settings"),
		"overview":     b.get("/"),
		"redirect":     anon.get("/settings"),
	}
	for name, p := range pages {
		h := p.Header
		csp := h.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %q", name, csp, d)
			}
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", name, k, h.Get(k), v)
			}
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q", name, h.Get("Cache-Control"))
			}
			if strings.Contains(p.Body, "<script") && !strings.Contains(p.Body, `<script type="application/json" id="currencyData">`) {
				t.Errorf("%s: the page has a script", name)
			}
			if strings.Contains(p.Body, " style=") {
				t.Errorf("%s: inline style (blocked by the CSP)", name)
			}
		}
	}
	if pages["static"].StatusCode != http.StatusOK || !strings.HasPrefix(pages["static"].Header.Get("Content-Type"), "text/css") {
		t.Fatalf("style.css: %d %s", pages["static"].StatusCode, pages["static"].Header.Get("Content-Type"))
	}
	if pages["not found"].StatusCode != http.StatusNotFound {
		t.Fatalf("unknown page: %d", pages["not found"].StatusCode)
	}
}

func TestHomeEmbedsCurrencyData(t *testing.T) {
	want, err := api.CurrencyDataScript(twinex.DefaultMarkets())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(s *web.Server) { s.CurrencyData = want })
	p := e.browser("192.0.2.10").get("/")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, string(want), "Create an account", "BTCUSD")
	// ccxt splits on `="currencyData">` and cuts at `</script>`.
	_, after, ok := strings.Cut(p.Body, `="currencyData">`)
	if !ok {
		t.Fatal("no currencyData element")
	}
	data, _, _ := strings.Cut(after, "</script>")
	if !strings.Contains(data, `"tradingPairs"`) {
		t.Fatalf("currency data %q", data)
	}
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	b := e.browser("192.0.2.10")
	b.login("ann@example.com", goodPassword)
	wantBody(t, b.get("/"), string(want))
}

// Every input of every form has a label, and the forms carry a CSRF token.
func TestFormsAreLabelled(t *testing.T) {
	e := newEnv(t)
	b := e.browser("192.0.2.10")
	b.get("/forgot")
	b.post("/forgot", url.Values{"email": {"x@example.com"}})
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	b.get("/forgot")
	b.post("/forgot", url.Values{"email": {"ann@example.com"}})
	resetLink := e.link("ann@example.com")
	inputRE := regexp.MustCompile(`<input id="([^"]+)"[^>]*type="(?:email|password|text)"`)
	for _, path := range []string{"/signup", "/login", "/forgot", resetLink} {
		p := e.browser("192.0.2.11").get(path)
		wantStatus(t, p, http.StatusOK)
		ids := inputRE.FindAllStringSubmatch(p.Body, -1)
		if len(ids) == 0 {
			t.Fatalf("%s: no inputs found", path)
		}
		for _, m := range ids {
			if !strings.Contains(p.Body, `<label for="`+m[1]+`">`) {
				t.Errorf("%s: input %s has no label", path, m[1])
			}
		}
		if !csrfRE.MatchString(p.Body) {
			t.Errorf("%s: no CSRF token", path)
		}
		if !strings.Contains(p.Body, `<main id="main"`) || !strings.Contains(p.Body, `href="#main"`) {
			t.Errorf("%s: no skip link to main", path)
		}
	}
}

// Without BaseURL, links are made only for loopback hosts: a forged Host
// header must not steer a reset link elsewhere.
func TestLinksNeedBaseURL(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.BaseURL = "" })
	e.base = "http://evil.example"
	b := e.browser("192.0.2.10")
	b.signup("ann@example.com", goodPassword)
	if ms := e.mailsTo("ann@example.com"); len(ms) != 0 {
		t.Fatalf("mailed a link for a forged host: %+v", ms)
	}
	e.base = "http://127.0.0.1:8080"
	b = e.browser("192.0.2.10")
	b.get("/forgot")
	b.post("/forgot", url.Values{"email": {"ann@example.com"}})
	ms := e.mailsTo("ann@example.com")
	if len(ms) != 1 || !strings.Contains(ms[0].Text, "http://127.0.0.1:8080/reset?token=") {
		t.Fatalf("loopback mails: %+v", ms)
	}
}

func TestNewAddressLoginMail(t *testing.T) {
	e := newEnv(t)
	a := e.browser("192.0.2.50")
	a.signup("jo@example.com", goodPassword)
	a.get(e.link("jo@example.com"))
	a.login("jo@example.com", goodPassword)
	a.login("jo@example.com", goodPassword) // the same address again
	for _, m := range e.mailsTo("jo@example.com") {
		if strings.HasPrefix(m.Subject, "New login") {
			t.Fatalf("mail %q for a known address", m.Subject)
		}
	}
	b := e.browser("198.51.100.7")
	b.login("jo@example.com", goodPassword)
	m := e.mailsTo("jo@example.com")
	if last := m[len(m)-1]; last.Subject != "New login from 198.51.100.7" {
		t.Fatalf("last mail %q", last.Subject)
	}
}

// TestLockoutHoldsUnderParallelGuesses: guesses sent all at once take
// turns, so no more failures are checked than the limit allows.
func TestLockoutHoldsUnderParallelGuesses(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.60").signup("par@example.com", goodPassword)
	const n = 12
	bs := make([]*browser, n)
	for i := range bs {
		bs[i] = e.browser("192.0.2.61")
		bs[i].get("/login")
	}
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := b.postRaw("/login", url.Values{"csrf": {b.csrf}, "email": {"par@example.com"}, "password": {"wrong guess " + strconv.Itoa(i)}})
			statuses <- p.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	checked := 0
	for st := range statuses {
		switch st {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("status %d", st)
		}
	}
	attempts, err := e.db.LoginAttempts(t.Context(), "par@example.com", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if checked != 5 || len(attempts) != 5 {
		t.Fatalf("%d guesses checked, %d recorded; the limit is 5", checked, len(attempts))
	}
}
