package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mfa"
)

// Two-factor authentication: a user enrols a TOTP authenticator app at
// /settings/mfa (scan the QR code, confirm with a code) and gets ten
// single-use recovery codes, shown once. From then on a login is two steps:
// the password starts a session that is not yet signed in (loadSession
// treats it as signed out, except for /login/mfa), and a code from the app,
// or a recovery code, completes it. Codes are throttled like passwords and
// never work twice (the accepted time step is stored with a
// compare-and-set); creating or rotating an API key and turning the second
// factor off ask for a code too.

// recoveryCodes is how many recovery codes an enrolment makes.
const recoveryCodes = 10

// mfaIssuer names this exchange in authenticator apps.
const mfaIssuer = "Twinex"

func mfaAAD(userID int64) []byte { return []byte("mfa:" + strconv.FormatInt(userID, 10)) }

// CheckMFASecret reports whether the master key opens a user's sealed TOTP
// seed: an error wrapping auth.ErrOpen (or auth.ErrSealVersion) when it
// does not.
func (s *Server) CheckMFASecret(userID int64, sealed []byte) error {
	_, err := s.Sealer.Open(sealed, mfaAAD(userID))
	return err
}

// mfaState returns the user's second factor; ok is false when none is
// enabled.
func (s *Server) mfaState(r *http.Request, userID int64) (m MFA, ok bool, err error) {
	m, err = s.Store.MFA(r.Context(), userID)
	if isNotFound(err) {
		return m, false, nil
	}
	return m, err == nil && m.Enabled != 0, err
}

// errCodeUsed is a right TOTP code whose time step was used already (a
// key created and then edited within 30 seconds): refused, with a message
// to wait for the next code, and not counted as a wrong guess.
var errCodeUsed = errors.New("web: two-factor code used already")

// usedCodeText is what a refused, already used code is told.
const usedCodeText = "That code was used a moment ago and works only once. Wait for the next code in your app (a new one appears every 30 seconds) and enter it."

// checkCode verifies a TOTP code against the user's second factor and
// records its step, so that it cannot be used again. It returns false for
// a wrong code, and errCodeUsed for a used one.
func (s *Server) checkCode(r *http.Request, m MFA, code string) (bool, error) {
	secret, err := s.Sealer.Open(m.Secret, mfaAAD(m.UserID))
	if err != nil {
		return false, err
	}
	step, err := mfa.Verify(string(secret), code, state(r).now, m.LastStep)
	if errors.Is(err, mfa.ErrReused) {
		return false, errCodeUsed
	}
	if errors.Is(err, mfa.ErrInvalidCode) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.Store.AdvanceMFA(r.Context(), m.UserID, step)
}

// checkRecovery uses a recovery code; false if it is not one of the
// unused ones.
func (s *Server) checkRecovery(r *http.Request, m MFA, code string) (bool, error) {
	hashes := strings.Fields(m.Recovery)
	remaining, ok := mfa.UseRecoveryCode(hashes, code)
	if !ok {
		return false, nil
	}
	return s.Store.SetMFARecovery(r.Context(), m.UserID, m.Recovery, strings.Join(remaining, "\n"))
}

type mfaView struct {
	Enabled  bool
	Since    int64
	QR       template.URL
	Secret   string
	Left     int // unused recovery codes
	Recovery []string
}

// SecretGroups is the secret in groups of four, for reading and typing.
func (v mfaView) SecretGroups() string {
	var b strings.Builder
	for i, c := range v.Secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// RecoveryFile is the recovery codes as a text file's data: URL, for the
// download link (the codes are shown once and kept only as hashes, so the
// server cannot serve them later).
func (v mfaView) RecoveryFile() template.URL {
	text := "Twinex recovery codes. Each one logs you in once if you lose your authenticator.\n\n" + strings.Join(v.Recovery, "\n") + "\n"
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(text))
}

// mfaPage shows the second factor's state: how to turn it on (a new secret
// each time the page is opened until one is confirmed), or how to turn it
// off.
func (s *Server) mfaPage(w http.ResponseWriter, r *http.Request) {
	s.renderMFA(w, r, http.StatusOK, view{}, true)
}

// renderMFA shows the page. Until 2FA is on, each view with fresh true
// makes a new secret (replacing an unconfirmed one), so that a secret seen
// by someone else, in another session, never becomes the user's second
// factor; a refused code shows the same secret again (fresh false).
func (s *Server) renderMFA(w http.ResponseWriter, r *http.Request, status int, v view, fresh bool) {
	u := state(r).user
	m, on, err := s.mfaState(r, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mv := mfaView{Enabled: on, Since: m.Enabled, Left: len(strings.Fields(m.Recovery))}
	if !on {
		account := strings.ReplaceAll(u.Email, ":", "")
		var e mfa.Enrollment
		if secret, oerr := s.Sealer.Open(m.Secret, mfaAAD(u.ID)); !fresh && len(m.Secret) > 0 && oerr == nil {
			e, err = mfa.Enroll(mfaIssuer, account, string(secret))
		} else if e, err = mfa.NewSecret(mfaIssuer, account); err == nil {
			err = s.Store.StartMFA(r.Context(), u.ID, s.Sealer.Seal([]byte(e.Secret), mfaAAD(u.ID)))
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		mv.QR, mv.Secret = template.URL(mfa.QRDataURI(e.QR)), e.Secret
	}
	v.Title, v.Nav, v.Data = "Two-factor authentication", "settings", mv
	s.render(w, r, status, "mfa.html", v)
}

// enableMFA confirms the enrolment with a code and shows the recovery
// codes, once.
func (s *Server) enableMFA(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	u := st.user
	m, err := s.Store.MFA(r.Context(), u.ID)
	if isNotFound(err) || (err == nil && m.Enabled != 0) {
		http.Redirect(w, r, "/settings/mfa", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	secret, err := s.Sealer.Open(m.Secret, mfaAAD(u.ID))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	step, err := mfa.Verify(string(secret), r.PostFormValue("code"), st.now, 0)
	if errors.Is(err, mfa.ErrInvalidCode) || errors.Is(err, mfa.ErrReused) {
		s.renderMFA(w, r, http.StatusUnprocessableEntity, view{
			Error:  "That code is not right. Check the time on your phone, and enter the code your app shows now.",
			Fields: map[string]string{"code": "Enter the 6-digit code from your app."}}, false)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	plain, hashes, err := mfa.NewRecoveryCodes(recoveryCodes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.EnableMFA(r.Context(), u.ID, st.now.UnixNano(), step, strings.Join(hashes, "\n")); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.SetSessionMFA(r.Context(), st.sess.ID, true); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, u.ID, "mfa_enabled", "")
	s.sendMail(r.Context(), u.Email, "Two-factor authentication is on",
		"Two-factor authentication was turned on for your Twinex account from the address "+st.ip+".\n\n"+
			"From now on, logging in asks for a code from your authenticator app.\n\n"+
			"If this was not you, reset your password at once and contact the operator of this exchange.\n")
	s.render(w, r, http.StatusOK, "mfa.html", view{Title: "Two-factor authentication", Nav: "settings",
		Data: mfaView{Enabled: true, Since: st.now.UnixNano(), Recovery: plain, Left: len(plain)}})
}

// disableMFA turns the second factor off after the password and a code
// (or a recovery code).
func (s *Server) disableMFA(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	u := st.user
	m, on, err := s.mfaState(r, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !on {
		http.Redirect(w, r, "/settings/mfa", http.StatusSeeOther)
		return
	}
	fields := map[string]string{}
	if !s.confirmPassword(w, r, fields) {
		s.renderMFA(w, r, http.StatusUnprocessableEntity, view{Error: "Please confirm with your password and a code.", Fields: fields}, false)
		return
	}
	ok, locked, err := s.throttledCode(r, u, m, r.PostFormValue("code"))
	used := errors.Is(err, errCodeUsed)
	if err != nil && !used {
		s.fail(w, r, err)
		return
	}
	if !ok {
		msg := "That code is not right."
		if used {
			msg = usedCodeText
		}
		if !locked.IsZero() {
			msg = "Too many wrong codes. Try again after " + untilText(locked) + "."
		}
		s.renderMFA(w, r, http.StatusUnprocessableEntity, view{Error: "Please confirm with your password and a code.",
			Fields: map[string]string{"code": msg}}, false)
		return
	}
	if err := s.Store.DeleteMFA(r.Context(), u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, u.ID, "mfa_disabled", "")
	s.sendMail(r.Context(), u.Email, "Two-factor authentication is off",
		"Two-factor authentication was turned off for your Twinex account from the address "+st.ip+".\n\n"+
			"If this was not you, reset your password at once and contact the operator of this exchange.\n")
	http.Redirect(w, r, "/settings?m=mfa_disabled", http.StatusSeeOther)
}

// checkSecondFactor accepts a TOTP code or, if the input is not six
// digits, a recovery code.
func (s *Server) checkSecondFactor(r *http.Request, m MFA, code string) (bool, error) {
	digits := strings.Map(func(c rune) rune {
		if c == ' ' {
			return -1
		}
		return c
	}, code)
	if len(digits) == mfa.Digits && strings.Trim(digits, "0123456789") == "" {
		return s.checkCode(r, m, digits)
	}
	ok, err := s.checkRecovery(r, m, code)
	if ok && err == nil {
		u := state(r).user
		if u == nil {
			u = state(r).mfaUser
		}
		s.audit(r, m.UserID, "recovery_used", strconv.Itoa(len(strings.Fields(m.Recovery))-1)+" left")
		s.sendMail(r.Context(), u.Email, "A recovery code was used",
			"A recovery code of your Twinex account was used from the address "+state(r).ip+".\n\n"+
				"Each code works once. If this was not you, reset your password at once.\n")
	}
	return ok, err
}

// throttledCode checks a second-factor code like checkSecondFactor, under
// the same throttle as the login's second step (wrong codes anywhere count
// together, per user and per address). locked is the end of a lock in
// force, when the code was not even checked; errCodeUsed is a right code
// used already, which does not count.
func (s *Server) throttledCode(r *http.Request, u *twinex.User, m MFA, code string) (ok bool, locked time.Time, err error) {
	st := state(r)
	key := "mfa:" + u.Email
	locked, release, err := s.throttle(r.Context(), key, st.ip, st.now)
	defer release()
	if err != nil || !locked.IsZero() {
		return false, locked, err
	}
	if ok, err = s.checkSecondFactor(r, m, code); err != nil {
		return false, time.Time{}, err // errCodeUsed too: not a guess
	}
	if err := s.Store.AddLoginAttempt(r.Context(), LoginAttempt{Email: key, IP: st.ip, Time: st.now.UnixNano(), OK: ok}); err != nil {
		return false, time.Time{}, err
	}
	if !ok {
		s.audit(r, u.ID, "mfa_failed", r.URL.Path)
	}
	return ok, time.Time{}, nil
}

// confirmMFA asks for a code before a sensitive change when the user has
// a second factor. It reports false after setting fields["code"].
func (s *Server) confirmMFA(r *http.Request, fields map[string]string) (bool, error) {
	u := state(r).user
	m, on, err := s.mfaState(r, u.ID)
	if err != nil || !on {
		return err == nil, err
	}
	ok, locked, err := s.throttledCode(r, u, m, r.PostFormValue("code"))
	switch {
	case errors.Is(err, errCodeUsed):
		fields["code"], err = usedCodeText, nil
	case err != nil:
	case !locked.IsZero():
		fields["code"] = "Too many wrong codes. Try again after " + untilText(locked) + "."
	case !ok:
		fields["code"] = "Enter the code from your authenticator app (or a recovery code)."
	}
	return ok, err
}

// mfaLoginForm is the second step of a login.
func (s *Server) mfaLoginForm(w http.ResponseWriter, r *http.Request) {
	if state(r).mfaUser == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "loginmfa.html", view{Title: "Two-factor authentication", Nav: "login"})
}

// mfaLogin checks the second step's code, throttled like passwords.
func (s *Server) mfaLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := state(r)
	u := st.mfaUser
	if u == nil {
		s.errorPage(w, r, http.StatusUnauthorized, "Please log in", "Your session has ended. Log in again to continue.")
		return
	}
	m, on, err := s.mfaState(r, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok := true
	if on {
		var until time.Time
		if ok, until, err = s.throttledCode(r, u, m, r.PostFormValue("code")); errors.Is(err, errCodeUsed) {
			s.render(w, r, http.StatusUnauthorized, "loginmfa.html", view{Title: "Two-factor authentication", Nav: "login",
				Error: "That code was used already.", Fields: map[string]string{"code": usedCodeText}})
			return
		} else if err != nil {
			s.fail(w, r, err)
			return
		} else if !until.IsZero() {
			s.render(w, r, http.StatusTooManyRequests, "loginmfa.html", view{Title: "Two-factor authentication", Nav: "login",
				Error: "Too many wrong codes. For your security, codes are refused until " + untilText(until) + " (about " + minutes(until.Sub(st.now)) + ")."})
			return
		}
	}
	if !ok {
		s.render(w, r, http.StatusUnauthorized, "loginmfa.html", view{Title: "Two-factor authentication", Nav: "login",
			Error: "That code is not right.", Fields: map[string]string{"code": "Enter the code your app shows now, or a recovery code."}})
		return
	}
	if err := s.Store.SetSessionMFA(ctx, st.sess.ID, true); err != nil {
		s.fail(w, r, err)
		return
	}
	s.noteLogin(r, *u, "with a second factor")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
