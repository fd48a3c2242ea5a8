package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/twinex/twinex"
)

// The operator's pages (/operator): identity review. The operator signs in
// with the admin token (the one the admin API and CLI use); the browser
// then holds a cookie with a random session token, valid for
// operatorLifetime. The server keeps the sessions (their tokens' SHA-256)
// in memory: signing out ends the session at once, and a restart (which a
// new admin token needs) ends them all. Sign-in attempts are throttled per
// address like logins.

const (
	operatorCookie   = "twinex_operator"
	operatorLifetime = 8 * time.Hour
	operatorThrottle = "operator" // the login throttle's key for token attempts
)

// operatorSessions are the signed-in operators' sessions.
type operatorSessions struct {
	mu   sync.Mutex
	live map[[32]byte]time.Time // token hash -> expiry
}

// start records a new session and returns its token.
func (o *operatorSessions) start(now time.Time) string {
	token := randomToken()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.live == nil {
		o.live = map[[32]byte]time.Time{}
	}
	for h, exp := range o.live {
		if !now.Before(exp) {
			delete(o.live, h)
		}
	}
	o.live[sha256.Sum256([]byte(token))] = now.Add(operatorLifetime)
	return token
}

// valid reports whether token names a live session. The look-up is by
// the token's hash, so its time does not depend on the token's bytes.
func (o *operatorSessions) valid(token string, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	exp, ok := o.live[sha256.Sum256([]byte(token))]
	return ok && now.Before(exp)
}

// end ends the session of token, if any.
func (o *operatorSessions) end(token string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.live, sha256.Sum256([]byte(token)))
}

// isOperator reports whether the request carries a live operator session.
func (s *Server) isOperator(r *http.Request) bool {
	if s.AdminToken == "" {
		return false
	}
	c, err := r.Cookie(operatorCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return s.operators.valid(c.Value, state(r).now)
}

func (s *Server) operatorOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.isOperator(r) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/operator/login", http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, http.StatusUnauthorized, "Operator sign-in needed", "Sign in with the admin token to continue.")
			return
		}
		h(w, r)
	}
}

func (s *Server) operatorLoginForm(w http.ResponseWriter, r *http.Request) {
	if s.isOperator(r) {
		http.Redirect(w, r, "/operator", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "operatorlogin.html", view{Title: "Operator sign-in", Nav: "operator"})
}

// operatorLogin checks the admin token, throttled per address.
func (s *Server) operatorLogin(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	// Keyed by address, so that wrong tokens from elsewhere cannot lock
	// the operator out.
	key := operatorThrottle + ":" + st.ip
	until, release, err := s.throttle(r.Context(), key, st.ip, st.now)
	defer release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !until.IsZero() {
		s.render(w, r, http.StatusTooManyRequests, "operatorlogin.html", view{Title: "Operator sign-in", Nav: "operator",
			Error: "Too many wrong tokens. Try again after " + untilText(until) + "."})
		return
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	ok := s.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.AdminToken)) == 1
	if err := s.Store.AddLoginAttempt(r.Context(), LoginAttempt{Email: key, IP: st.ip, Time: st.now.UnixNano(), OK: ok}); err != nil {
		s.fail(w, r, err)
		return
	}
	release() // recorded: the next attempt may check
	if !ok {
		s.Logger.Warn("web: wrong operator token", "ip", st.ip)
		s.render(w, r, http.StatusUnauthorized, "operatorlogin.html", view{Title: "Operator sign-in", Nav: "operator",
			Error: "That is not the admin token.", Fields: map[string]string{"token": "Paste the token from <data>/admin.token or TWINEX_ADMIN_TOKEN."}})
		return
	}
	c := s.cookie(operatorCookie, s.operators.start(st.now))
	// Path /: the operator also reads the sandbox mailbox (/mailbox).
	c.Path, c.SameSite, c.MaxAge = "/", http.SameSiteStrictMode, int(operatorLifetime/time.Second)
	http.SetCookie(w, c)
	s.Logger.Info("web: operator signed in", "ip", st.ip)
	http.Redirect(w, r, "/operator", http.StatusSeeOther)
}

// operatorLogout ends the operator's session: the cookie is cleared, and
// the token it held no longer works even if it was kept.
func (s *Server) operatorLogout(w http.ResponseWriter, r *http.Request) {
	if old, err := r.Cookie(operatorCookie); err == nil {
		s.operators.end(old.Value)
	}
	c := s.cookie(operatorCookie, "")
	c.Path, c.MaxAge = "/", -1
	http.SetCookie(w, c)
	http.Redirect(w, r, "/operator/login", http.StatusSeeOther)
}

type pendingRow struct {
	twinex.IdentitySubmission
	Email string
}

// operatorHome lists the identity submissions waiting for review.
func (s *Server) operatorHome(w http.ResponseWriter, r *http.Request) {
	s.renderOperator(w, r, http.StatusOK, view{})
}

func (s *Server) renderOperator(w http.ResponseWriter, r *http.Request, status int, v view) {
	subs, err := s.Identities.PendingIdentities(r.Context(), 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]pendingRow, 0, len(subs))
	for _, sub := range subs {
		u, err := s.Accounts.User(r.Context(), sub.UserID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rows = append(rows, pendingRow{IdentitySubmission: sub, Email: u.Email})
	}
	v.Title, v.Nav, v.Data = "Identity review", "operator", rows
	s.render(w, r, status, "operator.html", v)
}

// operatorReview approves or rejects one pending submission and tells the
// user by mail.
func (s *Server) operatorReview(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	id, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "No such submission", "Go back to the list.")
		return
	}
	sub, err := s.Identities.Identity(r.Context(), id)
	// The form names the submission the operator saw: one replaced since
	// (the user may resubmit while pending) is not decided unseen.
	if err == nil && r.PostFormValue("submitted") != strconv.FormatInt(sub.Submitted, 10) {
		s.errorPage(w, r, http.StatusConflict, "The submission changed", "The user sent new details since the list was loaded. Go back to the list and review them.")
		return
	}
	if isNotFound(err) || (err == nil && sub.Status != twinex.IdentityPending) {
		s.errorPage(w, r, http.StatusConflict, "Already decided", "This submission is not pending any more. Go back to the list.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.Accounts.User(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	var status twinex.IdentityStatus
	switch r.PostFormValue("decision") {
	case "approve":
		status = twinex.IdentityVerified
	case "reject":
		status = twinex.IdentityRejected
		if reason == "" || utf8.RuneCountInString(reason) > 500 || !utf8.ValidString(reason) {
			s.renderOperator(w, r, http.StatusUnprocessableEntity, view{Error: "A rejection needs a reason (at most 500 characters): the user sees it."})
			return
		}
	default:
		s.renderOperator(w, r, http.StatusUnprocessableEntity, view{Error: "Choose approve or reject."})
		return
	}
	if status == twinex.IdentityVerified {
		reason = ""
	}
	// Decided only if it is still the submission the operator saw: the
	// checks above read it, but the user may resubmit in between.
	err = s.Identities.DecideSubmission(r.Context(), id, sub.Submitted, status, reason, st.now.UnixNano())
	if errors.Is(err, twinex.ErrConflict) {
		s.errorPage(w, r, http.StatusConflict, "The submission changed", "The user sent new details, or the submission was decided, while you reviewed it. Go back to the list.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("web: identity reviewed", "user", id, "status", string(status), "ip", st.ip)
	if status == twinex.IdentityVerified {
		s.audit(r, id, "identity_verified", "by the operator")
		s.sendMail(r.Context(), u.Email, "Your identity is verified",
			"Your identity details were approved. You can now create API keys in the dashboard's API keys page.\n")
	} else {
		s.audit(r, id, "identity_rejected", reason)
		s.sendMail(r.Context(), u.Email, "Your identity could not be verified",
			"Your identity details were not approved: "+reason+"\n\nYou can correct them and submit them again in the dashboard's settings.\n")
	}
	http.Redirect(w, r, "/operator?m=reviewed", http.StatusSeeOther)
}
