// Package web is the dashboard: sign-up, email verification, login and
// logout, password reset and the account settings, as server-rendered HTML
// (html/template, embedded templates and CSS; one small script adds copy
// buttons, and every page works without it).
//
// Security model:
//   - Sessions are server-side rows keyed by the SHA-256 of a random 32-byte
//     token that only the browser's cookie holds (HttpOnly, SameSite=Lax,
//     Secure under TLS). A login always starts a new session; sessions end
//     after SessionIdle without use and after SessionLifetime in any case.
//   - Every request with an unsafe method must carry a CSRF token (the form
//     field "csrf" or the X-CSRF-Token header) derived from the session's
//     token, or, before login, from the pre-session cookie twinex_csrf; it
//     is compared in constant time. Cross-origin requests are refused too
//     (http.CrossOriginProtection: Sec-Fetch-Site and Origin).
//   - Login is throttled: 5 failures for one email, or 20 from one address,
//     within 15 minutes lock it for 15 minutes. Pages never tell whether an
//     email has an account; the mailbox learns it instead.
//   - Every response carries a Content-Security-Policy that allows only
//     same-origin resources and forbids framing; pages have no scripts.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/accounts"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/exchange"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/password"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/ratelimit"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Session and link lifetimes.
const (
	// SessionIdle ends a session that was not used for this long.
	SessionIdle = 30 * time.Minute
	// SessionLifetime ends a session this long after login, used or not.
	SessionLifetime = 12 * time.Hour
	// VerifyLinkLifetime and ResetLinkLifetime bound the emailed links.
	VerifyLinkLifetime = 24 * time.Hour
	ResetLinkLifetime  = time.Hour
	// touchEvery limits the writes of a session's LastSeen.
	touchEvery = time.Minute
	// maxFormBytes bounds a request body.
	maxFormBytes = 1 << 20
)

// Server is the dashboard. Store, Accounts and Markets are required; the
// other fields have defaults. Handler must be called once, after the fields
// are set.
type Server struct {
	Store    Store
	Accounts twinex.AccountStore
	// Mail sends a plain-text email. Nil drops mail (logged as a warning).
	Mail    func(ctx context.Context, to, subject, text string) error
	Markets *twinex.Markets
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default: discard
	// Secure marks cookies Secure: set it when browsers reach the server
	// over TLS (directly or through a TLS-terminating proxy).
	Secure bool
	// BaseURL is the dashboard's public address ("https://twinex.example"),
	// used in emailed links. When empty, links are made from the request's
	// Host only if it is a loopback address: trusting any other Host header
	// would let an attacker have reset links point at their own site.
	BaseURL string
	// Keys creates, rotates and revokes API keys; Identities keeps identity
	// submissions. Both are required.
	Keys       *keys.Service
	Identities twinex.IdentityStore
	// ActivityLog is the API activity log shown at /settings/api/activity.
	ActivityLog twinex.ActivityStore
	// Watch keeps alerts and keys' usage; Quota counts keys' requests
	// against their plans; KeyLimiter is the API's per-key rate limiter.
	// When nil, the alerts, usage and quota are not shown.
	Watch      twinex.WatchStore
	Quota      *quota.Service
	KeyLimiter *ratelimit.Limiter
	// AdminToken signs the operator in to /operator (identity review);
	// empty disables those pages.
	AdminToken string
	// Sealer seals two-factor secrets (with the API secrets' master key).
	// Required.
	Sealer *auth.Sealer
	// Sandbox shows the sandbox badge and notes.
	Sandbox bool
	// AutoApproveIdentity approves identity submissions at once (a
	// sandbox's choice); otherwise the operator reviews them.
	AutoApproveIdentity bool
	// CurrencyData is the landing page's <script id="currencyData">
	// element, the Gemini wire data ccxt reads from GET / (the API renders
	// it; the app hands it over, so the dashboard needs no API code).
	CurrencyData template.HTML
	// Users creates accounts (and users), with the rules the API uses.
	// Defaults to one over Accounts.
	Users *accounts.Service
	// Exchange serves balances, orders, fills, transfers, prices and (in
	// the sandbox, when it has a faucet) test funds. When nil, those pages
	// do not exist.
	Exchange *exchange.Service
	// Mailbox, when set (sandbox only), serves /mailbox: the outgoing mail.
	Mailbox Mailbox
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (see auth.ClientIP); none by default.
	TrustedProxies []netip.Prefix

	pages     map[string]*template.Template
	apiRef    *apiReference // the API reference page's data
	dummyHash string        // verified against for unknown emails, to spend the same time
	secrets   secretStash
	turns     turns // attempts' turns per throttle key

	operators     operatorSessions
	resets        chan resetJob // password-reset requests for Run
	resetByClient ratelimit.Window
	resetByEmail  ratelimit.Window
}

// Handler returns the dashboard's handler. Mount it at "/" for every path
// the API does not serve.
func (s *Server) Handler() http.Handler { // long: the dashboard's route table; splitting it would scatter the table
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Users == nil {
		s.Users = &accounts.Service{Store: s.Accounts, Now: s.Now}
	}
	s.resets = make(chan resetJob, resetQueueSize)
	s.resetByClient = ratelimit.Window{Max: ResetRequestsPerClient, Per: ResetLimitWindow}
	s.resetByEmail = ratelimit.Window{Max: ResetMailsPerEmail, Per: ResetLimitWindow}
	if err := s.parseTemplates(); err != nil {
		panic(err) // embedded templates: a programming error, caught by the tests
	}
	ref, err := newAPIReference()
	if err != nil {
		panic(err) // the embedded document: a programming error, caught by the tests
	}
	s.apiRef = ref
	h, err := password.Hash(randomToken())
	if err != nil {
		panic(err)
	}
	s.dummyHash = h

	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /docs/api", s.apiDocs)
	mux.HandleFunc("GET /signup", s.signupForm)
	mux.HandleFunc("POST /signup", s.signup)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /verify", s.verify)
	mux.HandleFunc("POST /verify/resend", s.signedIn(s.resendVerify))
	mux.HandleFunc("GET /forgot", s.forgotForm)
	mux.HandleFunc("POST /forgot", s.forgot)
	mux.HandleFunc("GET /reset", s.resetForm)
	mux.HandleFunc("POST /reset", s.reset)
	mux.HandleFunc("GET /settings", s.signedIn(s.settings))
	mux.HandleFunc("POST /settings/sessions/revoke", s.signedIn(s.revokeSessions))
	mux.HandleFunc("GET /login/mfa", s.mfaLoginForm)
	mux.HandleFunc("POST /login/mfa", s.mfaLogin)
	mux.HandleFunc("GET /settings/mfa", s.signedIn(s.mfaPage))
	mux.HandleFunc("POST /settings/mfa", s.signedIn(s.enableMFA))
	mux.HandleFunc("POST /settings/mfa/disable", s.signedIn(s.disableMFA))
	mux.HandleFunc("GET /operator/login", s.operatorLoginForm)
	mux.HandleFunc("POST /operator/login", s.operatorLogin)
	mux.HandleFunc("POST /operator/logout", s.operatorLogout)
	mux.HandleFunc("GET /operator", s.operatorOnly(s.operatorHome))
	mux.HandleFunc("POST /operator/kyc/{user}", s.operatorOnly(s.operatorReview))
	mux.HandleFunc("GET /settings/activity", s.signedIn(s.activity))
	mux.HandleFunc("GET /settings/api/activity", s.signedIn(s.apiActivity))
	mux.HandleFunc("GET /settings/accounts", s.signedIn(s.accountsPage))
	mux.HandleFunc("POST /settings/accounts", s.signedIn(s.createAccount))
	mux.HandleFunc("GET /settings/identity", s.signedIn(s.identityForm))
	mux.HandleFunc("POST /settings/identity", s.signedIn(s.submitIdentity))
	mux.HandleFunc("GET /settings/api", s.signedIn(s.apiKeys))
	mux.HandleFunc("POST /settings/api/keys", s.signedIn(s.createKey))
	mux.HandleFunc("POST /settings/api/keys/{id}/revoke", s.signedIn(s.revokeKey))
	mux.HandleFunc("POST /settings/api/keys/{id}/rotate", s.signedIn(s.rotateKey))
	mux.HandleFunc("GET /settings/api/secret/{token}", s.signedIn(s.secretPage))
	mux.HandleFunc("GET /settings/api/keys/{id}/edit", s.signedIn(s.editKeyForm))
	mux.HandleFunc("GET /settings/api/keys/{id}/usage", s.signedIn(s.keyUsage))
	mux.HandleFunc("GET /settings/alerts", s.signedIn(s.alerts))
	mux.HandleFunc("GET /markets/{symbol}", s.market)
	mux.HandleFunc("GET /markets/{symbol}/orders", s.signedIn(s.marketOrders))
	mux.HandleFunc("POST /settings/alerts/{id}/dismiss", s.signedIn(s.dismissAlert))
	mux.HandleFunc("POST /settings/alerts/{id}/revoke", s.signedIn(s.revokeFromAlert))
	mux.HandleFunc("POST /settings/api/keys/{id}/edit", s.signedIn(s.editKey))
	if s.Exchange != nil {
		mux.HandleFunc("GET /balances", s.signedIn(s.balances))
		mux.HandleFunc("POST /balances/transfer", s.signedIn(s.transfer))
		mux.HandleFunc("POST /balances/test-funds", s.signedIn(s.addTestFunds))
		mux.HandleFunc("GET /orders", s.signedIn(s.orders))
		mux.HandleFunc("GET /orders/export", s.signedIn(s.exportOrders))
		mux.HandleFunc("POST /orders/{id}/cancel", s.signedIn(s.cancelOrder))
		mux.HandleFunc("POST /orders/new", s.signedIn(s.placeOrder))
	}
	if s.Mailbox != nil {
		mux.HandleFunc("GET /mailbox", s.mailboxList)
		mux.HandleFunc("GET /mailbox/{id}", s.mailboxMessage)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "Page not found", "There is nothing at this address. Check the link, or go back to the start.")
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.forbidden))
	return s.headers(cop.Handler(s.withRequest(mux)))
}

// headers sets the security headers on every response and recovers from
// panics with a 500 page.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store") // pages show account data; static files override it
		if s.Secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("web: panic", "path", r.URL.Path, "panic", v)
				s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// reqState is what one request knows about its caller, taken once.
type reqState struct {
	now     time.Time
	ip      string
	sess    *Session     // nil when signed out
	token   string       // the session cookie's token
	user    *twinex.User // the session's user, once fully signed in
	mfaUser *twinex.User // the session's user, while the second factor is due
	preCSRF string       // the pre-session cookie's value, if any
	opToken string       // a live operator session's token, when there is no user session
}

type ctxKey struct{}

// state returns the request's state; a request refused before withRequest
// (by the cross-origin check) gets an empty, signed-out one.
func state(r *http.Request) *reqState {
	if st, ok := r.Context().Value(ctxKey{}).(*reqState); ok {
		return st
	}
	return &reqState{}
}

// withRequest loads the caller's session and checks the CSRF token of
// every request with an unsafe method.
func (s *Server) withRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &reqState{now: s.Now(), ip: clientIP(r, s.TrustedProxies)}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
		if strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		if err := s.loadSession(w, r, st); err != nil {
			s.fail(w, r, err)
			return
		}
		if c, err := r.Cookie(csrfCookie); err == nil {
			st.preCSRF = c.Value
		}
		if st.token == "" && s.isOperator(r) {
			c, _ := r.Cookie(operatorCookie)
			st.opToken = c.Value
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				err = r.ParseMultipartForm(maxFormBytes)
			} else {
				err = r.ParseForm()
			}
			if err != nil {
				s.errorPage(w, r, http.StatusBadRequest, "The form could not be read", "Go back, reload the page and try again.")
				return
			}
			if !s.checkCSRF(r, st) {
				s.forbidden(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func clientIP(r *http.Request, trusted []netip.Prefix) string {
	if a := auth.ClientIP(r, trusted); a.IsValid() {
		return a.String()
	}
	return ""
}

// signedIn lets only signed-in users through; others go to the login page.
func (s *Server) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if state(r).user == nil {
			if r.Method == http.MethodGet {
				to := "/login"
				if state(r).mfaUser != nil {
					to = "/login/mfa"
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, http.StatusUnauthorized, "Please log in", "Your session has ended. Log in again to continue.")
			return
		}
		h(w, r)
	}
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusForbidden, "This request was refused",
		"The form was missing its security token, had expired, or came from another site. Go back, reload the page and try again.")
}

// fail logs an unexpected error and shows a generic 500 page: the cause
// is for the operator, not the visitor.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if !twinex.NoteFailure(r.Context(), err) {
		s.Logger.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment. If it keeps happening, contact the operator of this exchange.")
}

// audit records an account event; a failure is logged, not shown.
func (s *Server) audit(r *http.Request, userID int64, action, detail string) {
	st := state(r)
	if err := s.Store.AddAudit(r.Context(), AuditEvent{UserID: userID, Time: st.now.UnixNano(), IP: st.ip, Action: action, Detail: detail}); err != nil {
		s.Logger.Error("web: audit", "user", userID, "action", action, "err", err)
	}
}

// sendMail sends a message, logging (never showing) a failure. The text
// holds secrets (links), so it is never logged.
func (s *Server) sendMail(ctx context.Context, to, subject, text string) {
	if s.Mail == nil {
		s.Logger.Warn("web: no mail sender; message dropped", "to", to, "subject", subject)
		return
	}
	if err := s.Mail(ctx, to, subject, text); err != nil {
		s.Logger.Error("web: send mail", "to", to, "subject", subject, "err", err)
	}
}

// link returns an absolute URL for path (with ?token=token unless token
// is "") for an email, or "" when the server's public address is unknown
// (see linkBase).
func (s *Server) link(r *http.Request, path, token string) string {
	base := s.linkBase(r)
	if base == "" {
		return ""
	}
	if token == "" {
		return base + path
	}
	return withToken(base+path, token)
}

// withToken adds a link's token to its URL.
func withToken(u, token string) string { return u + "?token=" + url.QueryEscape(token) }

// loopbackHost parses a Host header that names this machine: a loopback
// address or "localhost", with at most a numeric port. It returns the host
// (an IP in canonical form, without brackets) and the port ("" if none),
// or false for anything else ("127.0.0.1:80.evil.example", a public name,
// a zone).
func loopbackHost(hostport string) (host, port string, ok bool) {
	host = hostport
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", "", false
		}
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return host, port, true
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.IsLoopback() || a.Zone() != "" {
		return "", "", false
	}
	return a.String(), port, true
}

// linkBase returns the scheme and host of emailed links: BaseURL, or when
// it is empty, the request's Host if that is a loopback address or
// "localhost" with at most a numeric port ("127.0.0.1:8080", "[::1]",
// "localhost:8080"), rebuilt from its parsed parts. Any other Host (a
// public name, "127.0.0.1:80.evil.example") gives "": trusting it would let
// an attacker point reset links at their own site.
func (s *Server) linkBase(r *http.Request) string {
	if base := strings.TrimRight(s.BaseURL, "/"); base != "" {
		return base
	}
	host, port, ok := loopbackHost(r.Host)
	if !ok {
		s.Logger.Error("web: BaseURL is not set; cannot make an emailed link for this host", "host", r.Host)
		return ""
	}
	scheme := "http"
	if r.TLS != nil || s.Secure {
		scheme = "https"
	}
	if port == "" {
		if strings.Contains(host, ":") {
			return scheme + "://[" + host + "]"
		}
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// Prune deletes expired sessions and links and login attempts older than a
// day. Call it now and then (say hourly).
func (s *Server) Prune(ctx context.Context) error {
	now := s.Now()
	if err := s.Store.PruneWeb(ctx, now.UnixNano(), now.Add(-24*time.Hour).UnixNano()); err != nil {
		return fmt.Errorf("web prune: %w", err)
	}
	return nil
}

// isNotFound reports whether err is a store's "matched nothing".
func isNotFound(err error) bool { return errors.Is(err, twinex.ErrNotFound) }
