package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/accounts"
	"github.com/twinex/twinex/password"
)

func (s *Server) signupForm(w http.ResponseWriter, r *http.Request) {
	if state(r).user != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "signup.html", view{Title: "Create your account", Nav: "signup"})
}

// signup creates an account and mails a verification link. Whether the
// email already had an account is told only to its mailbox: the page is
// the same either way.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	email, emailErr := checkEmail(r.PostFormValue("email"))
	pw := r.PostFormValue("password")
	fields := map[string]string{}
	if emailErr != "" {
		fields["email"] = emailErr
	}
	if msg := checkNewPassword(pw, email); msg != "" {
		fields["password"] = msg
	} else if r.PostFormValue("confirm") != pw {
		fields["confirm"] = "The passwords do not match."
	}
	if len(fields) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "signup.html", view{Title: "Create your account", Nav: "signup",
			Error: "Please correct the highlighted fields.", Fields: fields, Form: map[string]string{"email": r.PostFormValue("email")}})
		return
	}
	// The service hashes the password first, so that a taken email costs
	// the same time.
	u, _, err := s.Users.CreateUser(ctx, accounts.NewUser{Email: email, Password: pw})
	switch {
	case errors.Is(err, twinex.ErrConflict):
		s.sendMail(ctx, email, "Your Twinex account", existingAccountMail(s.link(r, "/forgot", "")))
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		s.audit(r, u.ID, "signup", "")
		if err := s.mailVerifyLink(r, u); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "sent.html", view{Title: "Check your email", Data: sentView{Email: email, Kind: "signup"}})
}

// sentView is the "check your email" page.
type sentView struct {
	Email string
	Kind  string // "signup" or "forgot"
}

// mailVerifyLink stores a new verification token for u and mails its link.
func (s *Server) mailVerifyLink(r *http.Request, u twinex.User) error {
	st := state(r)
	token := randomToken()
	t := EmailToken{Hash: hashToken(token), UserID: u.ID, Purpose: purposeVerify, Created: st.now.UnixNano(), Expires: st.now.Add(VerifyLinkLifetime).UnixNano()}
	if err := s.Store.CreateEmailToken(r.Context(), t); err != nil {
		return err
	}
	if link := s.link(r, "/verify", token); link != "" {
		s.sendMail(r.Context(), u.Email, "Verify your email address", verifyMail(link))
	}
	return nil
}

// verify uses an emailed verification link. A GET that changes state, as
// emailed links must be: the token itself is the proof, it is single-use,
// and the change (marking the address verified) is what the link's owner
// asked for.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if token == "" {
		s.linkInvalid(w, r, "verify")
		return
	}
	userID, err := s.Store.VerifyEmail(r.Context(), hashToken(token), state(r).now.UnixNano())
	if isNotFound(err) {
		s.linkInvalid(w, r, "verify")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, userID, "email_verified", "")
	s.welcome(r, userID)
	s.render(w, r, http.StatusOK, "verified.html", view{Title: "Email verified", Data: s.grantRows()})
}

// welcome gives a newly verified user's primary account the sandbox's
// test funds (once; nothing in production). A failure is logged: the user
// can add test funds from the balances page.
func (s *Server) welcome(r *http.Request, userID int64) {
	if s.Exchange == nil || s.Exchange.Faucet == nil {
		return
	}
	list, err := s.Accounts.Accounts(r.Context(), userID)
	if err == nil && len(list) > 0 {
		err = s.Exchange.Welcome(r.Context(), list[0].ID)
	}
	if err != nil {
		s.Logger.Error("web: test funds for a new user", "user", userID, "err", err)
	}
}

func (s *Server) linkInvalid(w http.ResponseWriter, r *http.Request, kind string) {
	s.render(w, r, http.StatusBadRequest, "link.html", view{Title: "This link cannot be used", Data: kind})
}

// resendVerify mails a new verification link to the signed-in user.
func (s *Server) resendVerify(w http.ResponseWriter, r *http.Request) {
	u := *state(r).user
	verified, err := s.emailVerified(r, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !verified {
		if err := s.mailVerifyLink(r, u); err != nil {
			s.fail(w, r, err)
			return
		}
		s.audit(r, u.ID, "verify_resent", "")
	}
	http.Redirect(w, r, "/settings?m=verify_sent", http.StatusSeeOther)
}

// emailVerified reports whether u's email is verified. A user whose
// identity is verified has a verified email too: identity verification
// comes after it, and users made by operators (the sandbox's demo user)
// start with a verified identity.
func (s *Server) emailVerified(r *http.Request, u twinex.User) (bool, error) {
	if u.Identity == twinex.IdentityVerified {
		return true, nil
	}
	at, err := s.Store.EmailVerified(r.Context(), u.ID)
	return at != 0, err
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if state(r).user != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login.html", view{Title: "Log in", Nav: "login"})
}

// login checks an email and password, throttled, and starts a new session.
// A wrong email and a wrong password get the same answer, in about the
// same time.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := state(r)
	raw := r.PostFormValue("email")
	email, emailErr := checkEmail(raw)
	pw := r.PostFormValue("password")
	form := map[string]string{"email": raw}
	if emailErr != "" || pw == "" {
		fields := map[string]string{}
		if emailErr != "" {
			fields["email"] = emailErr
		}
		if pw == "" {
			fields["password"] = "Enter your password."
		}
		s.render(w, r, http.StatusUnprocessableEntity, "login.html", view{Title: "Log in", Nav: "login",
			Error: "Please correct the highlighted fields.", Fields: fields, Form: form})
		return
	}
	until, release, err := s.throttle(ctx, email, st.ip, st.now)
	defer release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !until.IsZero() {
		s.render(w, r, http.StatusTooManyRequests, "login.html", view{Title: "Log in", Nav: "login", Form: form,
			Error: "Too many failed attempts. For your security, logging in is paused until " + untilText(until) +
				" (about " + minutes(until.Sub(st.now)) + "). If you forgot your password, you can reset it now."})
		return
	}
	u, err := s.Accounts.UserByEmail(ctx, email)
	hash := u.PasswordHash
	if isNotFound(err) || hash == "" {
		hash = s.dummyHash
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	perr := password.Verify(hash, pw)
	ok := perr == nil && err == nil && u.PasswordHash != ""
	if perr != nil && !errors.Is(perr, password.ErrMismatch) {
		s.Logger.Error("web: stored password hash is unusable", "user", u.ID, "err", perr)
	}
	if err := s.Store.AddLoginAttempt(ctx, LoginAttempt{Email: email, IP: st.ip, Time: st.now.UnixNano(), OK: ok}); err != nil {
		s.fail(w, r, err)
		return
	}
	release() // recorded: the next attempt may check
	if !ok {
		if u.ID != 0 {
			s.audit(r, u.ID, "login_failed", "")
		}
		s.render(w, r, http.StatusUnauthorized, "login.html", view{Title: "Log in", Nav: "login", Form: form,
			Error: "The email address or password is incorrect."})
		return
	}
	if err := s.startSession(w, r, u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, on, err := s.mfaState(r, u.ID); err != nil {
		s.fail(w, r, err)
		return
	} else if on {
		s.audit(r, u.ID, "login_password", "")
		http.Redirect(w, r, "/login/mfa", http.StatusSeeOther)
		return
	}
	s.noteLogin(r, u, "")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// minutes says a duration in whole minutes, rounded up.
func minutes(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "1 minute"
	}
	return strconv.Itoa(m) + " minutes"
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	if u := st.user; u != nil {
		s.audit(r, u.ID, "logout", "")
	}
	if err := s.endSession(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/login?m=logged_out", http.StatusSeeOther)
}

func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "forgot.html", view{Title: "Reset your password"})
}

// forgot queues a password reset for the email (mailed in the background
// if it has an account; see reset.go) and shows the same page either way,
// in the same time. A client over its limit gets 429; an email over its
// limit gets no more mail, silently.
func (s *Server) forgot(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	email, emailErr := checkEmail(r.PostFormValue("email"))
	if emailErr != "" {
		s.render(w, r, http.StatusUnprocessableEntity, "forgot.html", view{Title: "Reset your password",
			Error: "Please correct the highlighted field.", Fields: map[string]string{"email": emailErr},
			Form: map[string]string{"email": r.PostFormValue("email")}})
		return
	}
	client, wait, mailLimited := s.resetLimited(email, st.ip, st.now)
	if client {
		s.render(w, r, http.StatusTooManyRequests, "forgot.html", view{Title: "Reset your password",
			Error: "Too many reset requests from your network. Try again in " + minutes(wait) + ".",
			Form:  map[string]string{"email": r.PostFormValue("email")}})
		return
	}
	switch {
	case mailLimited:
		s.Logger.Info("web: password reset mail limit reached; request dropped", "ip", st.ip)
	case !s.queueReset(resetJob{email: email, base: s.linkBase(r), ip: st.ip, at: st.now}):
		s.Logger.Warn("web: password reset queue full; request dropped", "ip", st.ip)
	}
	s.render(w, r, http.StatusOK, "sent.html", view{Title: "Check your email", Data: sentView{Email: email, Kind: "forgot"}})
}

// resetToken returns the usable reset token named by the request, or false.
func (s *Server) resetToken(r *http.Request, token string) (EmailToken, bool, error) {
	if token == "" {
		return EmailToken{}, false, nil
	}
	t, err := s.Store.EmailToken(r.Context(), hashToken(token))
	if isNotFound(err) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	ok := t.Purpose == purposeReset && t.Used == 0 && state(r).now.UnixNano() < t.Expires
	return t, ok, nil
}

type resetView struct{ Token string }

func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	_, ok, err := s.resetToken(r, token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.linkInvalid(w, r, "reset")
		return
	}
	s.render(w, r, http.StatusOK, "reset.html", view{Title: "Choose a new password", Data: resetView{Token: token}})
}

// reset sets a new password with a reset link's token: it uses the token,
// signs out every session of the user and lifts the email's login lock.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := state(r)
	token := r.PostFormValue("token")
	t, ok, err := s.resetToken(r, token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.linkInvalid(w, r, "reset")
		return
	}
	u, err := s.Accounts.User(ctx, t.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pw := r.PostFormValue("password")
	fields := map[string]string{}
	if msg := checkNewPassword(pw, u.Email); msg != "" {
		fields["password"] = msg
	} else if r.PostFormValue("confirm") != pw {
		fields["confirm"] = "The passwords do not match."
	}
	if len(fields) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "reset.html", view{Title: "Choose a new password",
			Error: "Please correct the highlighted fields.", Fields: fields, Data: resetView{Token: token}})
		return
	}
	hash, err := password.Hash(pw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	userID, err := s.Store.ResetPassword(ctx, hashToken(token), hash, st.now.UnixNano())
	if isNotFound(err) { // used or expired meanwhile
		s.linkInvalid(w, r, "reset")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The store ended every session of the user, this browser's included
	// if it had one.
	if st.sess != nil && st.sess.UserID == userID {
		s.clearCookie(w, sessionCookie)
	}
	if err := s.Store.AddLoginAttempt(ctx, LoginAttempt{Email: u.Email, IP: st.ip, Time: st.now.UnixNano(), OK: true}); err != nil {
		s.Logger.Error("web: lift login lock after reset", "user", userID, "err", err)
	}
	s.audit(r, userID, "password_reset", "")
	s.sendMail(ctx, u.Email, "Your Twinex password was changed", passwordChangedMail(s.link(r, "/forgot", "")))
	http.Redirect(w, r, "/login?m=password_reset", http.StatusSeeOther)
}

// noteLogin records a completed login and, when it comes from an address
// the user's earlier logins did not, mails the user about it.
func (s *Server) noteLogin(r *http.Request, u twinex.User, detail string) {
	st := state(r)
	ctx := r.Context()
	before, err := s.Store.HasAudit(ctx, u.ID, "login", "")
	known := false
	if err == nil && before {
		known, err = s.Store.HasAudit(ctx, u.ID, "login", st.ip)
	}
	if err != nil {
		s.Logger.Error("web: audit log", "user", u.ID, "err", err)
	}
	s.audit(r, u.ID, "login", detail)
	if err == nil && before && !known {
		s.sendMail(ctx, u.Email, "New login from "+st.ip,
			"Your Twinex account was logged into from the address "+st.ip+", which your account has not logged in from before,\n"+
				"at "+st.now.UTC().Format("2 Jan 2006 15:04 UTC")+".\n\n"+
				"If this was you, there is nothing to do. If not, reset your password at once, sign out your other\nsessions and turn on two-factor authentication.\n")
	}
}
