package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

// Cookie names.
const (
	sessionCookie = "twinex_session"
	// csrfCookie binds the CSRF token of forms shown before login (sign-up,
	// login, password reset) to the browser.
	csrfCookie = "twinex_csrf"
)

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is the stored form of a cookie's or a link's token: a copy
// of the database gives no usable cookie or link.
func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// csrfToken derives the CSRF token of forms from a secret only the
// browser's cookies hold (the session token, or the pre-session cookie),
// so that no other site can know it and nothing more need be stored. The
// label keeps it apart from the session id, which is the token's plain
// SHA-256.
func csrfToken(secret string) string {
	h := sha256.Sum256([]byte("twinex csrf\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// checkCSRF reports whether the request carries the CSRF token of its
// session or, only when it has none, of its pre-session cookie. A signed-in
// request never accepts the pre-session token: that cookie can be planted
// (by a sibling subdomain, say), so a token derived from it proves nothing
// about the session.
func (s *Server) checkCSRF(r *http.Request, st *reqState) bool {
	got := r.PostFormValue("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	if got == "" {
		return false
	}
	secret := st.csrfSecret()
	return secret != "" && subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(secret))) == 1
}

// csrfSecret is what the request's CSRF tokens derive from: the user's
// session, else the operator's session, else the pre-session cookie.
func (st *reqState) csrfSecret() string {
	switch {
	case st.token != "":
		return st.token
	case st.opToken != "":
		return st.opToken
	}
	return st.preCSRF
}

// formCSRF returns the CSRF token for the forms of the page being
// rendered: the session's when signed in, else the pre-session cookie's,
// setting that cookie first when the browser has none.
func (s *Server) formCSRF(w http.ResponseWriter, st *reqState) string {
	if st.token != "" || st.opToken != "" {
		return csrfToken(st.csrfSecret())
	}
	if st.preCSRF == "" {
		st.preCSRF = randomToken()
		http.SetCookie(w, s.cookie(csrfCookie, st.preCSRF))
	}
	return csrfToken(st.preCSRF)
}

// cookie makes one of the dashboard's cookies. They last as long as the
// browser session; the server ends sessions on its own clock.
func (s *Server) cookie(name, value string) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode}
}

func (s *Server) clearCookie(w http.ResponseWriter, name string) {
	c := s.cookie(name, "")
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// loadSession reads the session cookie into st. An unknown or expired
// session is deleted and its cookie cleared: the caller is signed out.
func (s *Server) loadSession(w http.ResponseWriter, r *http.Request, st *reqState) error {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	ctx := r.Context()
	id := hashToken(c.Value)
	sess, err := s.Store.Session(ctx, id)
	if isNotFound(err) {
		s.clearCookie(w, sessionCookie)
		return nil
	}
	if err != nil {
		return err
	}
	now := st.now.UnixNano()
	if now >= sess.Expires || now-sess.LastSeen >= int64(SessionIdle) {
		if err := s.Store.DeleteSession(ctx, id); err != nil {
			return err
		}
		s.clearCookie(w, sessionCookie)
		return nil
	}
	u, err := s.Accounts.User(ctx, sess.UserID)
	if isNotFound(err) {
		s.clearCookie(w, sessionCookie)
		return s.Store.DeleteSession(ctx, id)
	}
	if err != nil {
		return err
	}
	if now-sess.LastSeen >= int64(touchEvery) {
		if err := s.Store.TouchSession(ctx, id, now); err != nil && !isNotFound(err) {
			return err
		}
		sess.LastSeen = now
	}
	st.sess, st.token, st.user = &sess, c.Value, &u
	if !sess.MFA {
		// A password alone does not sign in a user with a second factor:
		// until the code is given, the session only reaches /login/mfa.
		if _, on, err := s.mfaState(r, u.ID); err != nil {
			return err
		} else if on {
			st.user, st.mfaUser = nil, &u
		}
	}
	return nil
}

// startSession signs a user in with a new session (a fresh token, never
// one the browser brought: no session fixation), ending the browser's
// previous session and its pre-session CSRF cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID int64) error {
	st := state(r)
	ctx := r.Context()
	if st.sess != nil {
		if err := s.Store.DeleteSession(ctx, st.sess.ID); err != nil {
			return err
		}
	}
	token := randomToken()
	now := st.now.UnixNano()
	sess := Session{ID: hashToken(token), UserID: userID, Created: now, Expires: st.now.Add(SessionLifetime).UnixNano(), LastSeen: now, IP: st.ip}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	http.SetCookie(w, s.cookie(sessionCookie, token))
	if st.preCSRF != "" {
		s.clearCookie(w, csrfCookie)
	}
	st.sess, st.token, st.preCSRF = &sess, token, ""
	return nil
}

// endSession signs the browser out.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	s.clearCookie(w, sessionCookie)
	if st.sess == nil {
		return nil
	}
	err := s.Store.DeleteSession(r.Context(), st.sess.ID)
	st.sess, st.token, st.user = nil, "", nil
	return err
}

// untilText formats a time for messages, in UTC.
func untilText(t time.Time) string { return t.UTC().Format("15:04 UTC") }
