package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/password"
)

// keyRow is one key in the API keys table.
type keyRow struct {
	twinex.APIKey
	Scope  string // the account's name, or "Master (all accounts)"
	Status string // "Active", "Expired" or "Revoked"
	Active bool
}

type apiView struct {
	Account  account
	Keys     []keyRow
	Accounts []twinex.Account
	// RoleChoices and ExpiryChoices are the form's options.
	RoleChoices   any
	ExpiryChoices any
	MFAOn         bool   // creating and rotating ask for a code too
	ClientIP      string // the caller's address, offered for the allowlist
}

// roleChoices are the roles offered on the form, by form value.
var roleChoices = []struct{ Value, Name, Text string }{
	{"trader", "Trader", "Place and cancel orders; read orders, trades and balances."},
	{"fundmanager", "Fund Manager", "Deposit addresses, withdrawals and transfers between your accounts. Caution: a leaked key with this role can move your funds out; give it an IP allowlist."},
	{"auditor", "Auditor", "Read-only: orders, trades, balances and transfers. Cannot be combined with other roles."},
	{"administrator", "Administrator", "Create and rename accounts. Master keys only."},
}

// expiryChoices are the offered lifetimes of a new key, in days ("" never,
// "date" the date entered beside them).
var expiryChoices = []struct{ Value, Name string }{
	{"", "Never"}, {"1", "1 day"}, {"7", "7 days"}, {"30", "30 days"}, {"90", "90 days"}, {"365", "1 year"},
	{"date", "On a date"},
}

// apiKeys lists the user's keys with the form to create one.
func (s *Server) apiKeys(w http.ResponseWriter, r *http.Request) {
	s.renderAPI(w, r, http.StatusOK, view{})
}

func (s *Server) renderAPI(w http.ResponseWriter, r *http.Request, status int, v view) {
	ctx := r.Context()
	st := state(r)
	u := *st.user
	a, err := s.account(r, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	av := apiView{Account: a, RoleChoices: roleChoices, ExpiryChoices: expiryChoices, ClientIP: st.ip}
	if _, av.MFAOn, err = s.mfaState(r, u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if av.Accounts, err = s.Accounts.Accounts(ctx, u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, acct := range av.Accounts {
		names[acct.ID] = acct.Name
	}
	ks, err := s.Accounts.Keys(ctx, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := st.now.UnixNano()
	for _, k := range ks {
		row := keyRow{APIKey: k, Scope: names[k.AccountID], Active: k.Active(now)}
		if k.Master {
			row.Scope = "Master (all accounts)"
		}
		row.Status = keyStatus(k, now)
		av.Keys = append(av.Keys, row)
	}
	v.Title, v.Nav, v.Data = "API keys", "api", av
	if v.Form == nil {
		v.Form = map[string]string{"roles_trader": "on"} // Gemini's default role
	}
	s.render(w, r, status, "apikeys.html", v)
}

// keyStatus is "Revoked", "Expired" or "Active": a key's state at now
// (Unix ns), in words.
func keyStatus(k twinex.APIKey, now int64) string {
	switch {
	case k.Revoked != 0:
		return "Revoked"
	case !k.Active(now):
		return "Expired"
	}
	return "Active"
}

// ownKey loads the key named in the path if it is the signed-in user's;
// otherwise it answers 404 (never telling whether the id exists).
func (s *Server) ownKey(w http.ResponseWriter, r *http.Request) (twinex.APIKey, bool) {
	k, err := s.Accounts.Key(r.Context(), r.PathValue("id"))
	if err == nil && k.UserID == state(r).user.ID {
		return k, true
	}
	if err != nil && !isNotFound(err) {
		s.fail(w, r, err)
		return k, false
	}
	s.errorPage(w, r, http.StatusNotFound, "No such key", "That API key does not exist or is not yours.")
	return k, false
}

// confirmPassword checks the form's current password, the step-up asked
// before a secret is issued. It reports false after answering.
// Failures count against the login throttle of the user's email and the
// address, so that a borrowed session cannot be used to guess the
// password faster than the login page allows.
//
// An empty password is not a guess (Enter pressed in another field
// submits the form before the password is typed): it is refused with a
// request to type it and never counts against the throttle.
func (s *Server) confirmPassword(w http.ResponseWriter, r *http.Request, fields map[string]string) bool {
	st := state(r)
	u := st.user
	if r.PostFormValue("password") == "" {
		fields["password"] = "Enter your password to confirm."
		return false
	}
	until, release, err := s.throttle(r.Context(), u.Email, st.ip, st.now)
	defer release()
	if err != nil {
		s.Logger.Error("web: login throttle", "err", err)
		fields["password"] = "Please try again in a moment."
		return false
	}
	if !until.IsZero() {
		fields["password"] = "Too many wrong passwords. Try again after " + untilText(until) + "."
		return false
	}
	err = password.Verify(u.PasswordHash, r.PostFormValue("password"))
	if err == nil && u.PasswordHash != "" {
		return true
	}
	if err != nil && !errors.Is(err, password.ErrMismatch) {
		s.Logger.Error("web: stored password hash is unusable", "user", u.ID, "err", err)
	}
	if err := s.Store.AddLoginAttempt(r.Context(), LoginAttempt{Email: u.Email, IP: st.ip, Time: st.now.UnixNano()}); err != nil {
		s.Logger.Error("web: login attempt", "err", err)
	}
	s.audit(r, u.ID, "confirm_failed", r.URL.Path)
	fields["password"] = "That is not your password."
	return false
}

// stepUp asks for the password and, once enabled, a two-factor code
// before a change to keys. It reports false after answering (through
// refuse, or with a 500).
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request, fields map[string]string, refuse func(msg string)) bool {
	if !s.confirmPassword(w, r, fields) {
		refuse("Please confirm with your password.")
		return false
	}
	ok, err := s.confirmMFA(r, fields)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if !ok {
		refuse("Please confirm with a code from your authenticator app.")
	}
	return ok
}

// maxExpiryDays bounds a key's expiry date.
const maxExpiryDays = 5 * 366

// lifetime reads an expiry choice: days, "" for never, or "date" for the
// end (24:00 UTC) of the day on, a YYYY-MM-DD date in the future at most
// maxExpiryDays away. A value not offered or a bad date marks
// fields["expires"].
func lifetime(v, on string, now time.Time, fields map[string]string) time.Time {
	if v != "date" && strayDate(on, fields) {
		return time.Time{}
	}
	if v == "" {
		return time.Time{}
	}
	if v == "date" {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(on))
		end := d.Add(24 * time.Hour)
		if err != nil || !end.After(now) || end.Sub(now) > maxExpiryDays*24*time.Hour {
			fields["expires"] = "Choose a date from today to 5 years from now."
			return time.Time{}
		}
		return end
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 365 {
		fields["expires"] = "Choose one of the offered lifetimes."
		return time.Time{}
	}
	return now.Add(time.Duration(n) * 24 * time.Hour)
}

// strayDate marks fields["expires"] when a date was entered without
// choosing "On a date": silently ignoring it would leave a key the user
// meant to expire working for ever.
func strayDate(on string, fields map[string]string) bool {
	if strings.TrimSpace(on) == "" {
		return false
	}
	fields["expires"] = "You entered a date: choose “On a date” to use it, or clear the date."
	return true
}

// createKey creates a key from the form and shows its secret, once.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	u := *st.user
	form := map[string]string{}
	for _, name := range []string{"label", "scope", "allowlist", "expires", "expires_on"} {
		form[name] = r.PostFormValue(name)
	}
	roles, _ := formRoles(r, form)
	for _, name := range []string{"heartbeat", "time_nonce"} {
		if r.PostFormValue(name) != "" {
			form[name] = "on"
		}
	}
	fields := map[string]string{}
	refuse := func(msg string) {
		s.renderAPI(w, r, http.StatusUnprocessableEntity, view{Error: msg, Fields: fields, Form: form})
	}
	verified, err := s.emailVerified(r, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !verified || u.Identity != twinex.IdentityVerified {
		refuse("Only accounts whose email address and identity are verified can create API keys.")
		return
	}
	o := keys.CreateOptions{Label: strings.TrimSpace(form["label"]), RequireHeartbeat: form["heartbeat"] != "", TimeNonce: form["time_nonce"] != ""}
	o.Roles = roles
	var acct twinex.Account
	if form["scope"] == "master" {
		o.Master = true
	} else {
		id, err := strconv.ParseInt(form["scope"], 10, 64)
		if err == nil {
			acct, err = s.Accounts.Account(r.Context(), id)
			if err != nil && !isNotFound(err) {
				s.fail(w, r, err)
				return
			}
		}
		if err != nil || acct.UserID != u.ID {
			fields["scope"] = "Choose one of your accounts."
		}
	}
	o.Allowlist = splitAllowlist(form["allowlist"])
	o.Expires = lifetime(form["expires"], form["expires_on"], st.now, fields)
	checkKeySettings(fields, o.Label, o.Roles, o.Master, o.Allowlist)
	if o.Master && o.RequireHeartbeat {
		fields["heartbeat"] = "Master keys cannot require a heartbeat."
	}
	if len(fields) > 0 {
		refuse("Please correct the highlighted fields.")
		return
	}
	if !s.stepUp(w, r, fields, refuse) {
		return
	}
	k, secret, err := s.Keys.Create(r.Context(), u, acct, o)
	if errors.Is(err, keys.ErrInvalid) || errors.Is(err, keys.ErrNotVerified) {
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 && errors.Is(err, keys.ErrInvalid) {
			msg = msg[i+2:]
		}
		refuse(capitalize(msg) + ".")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, u.ID, "key_created", k.ID)
	s.sendMail(r.Context(), u.Email, "A new API key was created", keyMail("created", k, st.ip))
	s.showSecret(w, r, k, secret, "created")
}

// secretView is the page that shows a key's secret, the only time it is
// ever shown.
type secretView struct {
	Key     twinex.APIKey
	Secret  string
	Kind    string // "created" or "rotated"
	BaseURL string
	Grace   string
}

func (s *Server) showSecret(w http.ResponseWriter, r *http.Request, k twinex.APIKey, secret, kind string) {
	// The secret is shown by a GET after a redirect, so that reloading the
	// page or going back cannot submit the form again (a second key, or a
	// second rotation that voids the secret just copied). It waits in
	// memory for the session that made it, for a few minutes at most, and
	// is shown once.
	st := state(r)
	token := s.secrets.put(stashed{session: st.sess.ID, key: k, secret: secret, kind: kind}, st.now)
	http.Redirect(w, r, "/settings/api/secret/"+token, http.StatusSeeOther)
}

// secretPage shows a stashed secret, once, to the session that made it.
func (s *Server) secretPage(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	x, ok := s.secrets.take(r.PathValue("token"), st.sess.ID, st.now)
	if !ok {
		s.errorPage(w, r, http.StatusGone, "This secret was shown already",
			"An API secret is shown once. If you did not save it, rotate the key on the API keys page to get a new one.")
		return
	}
	sv := secretView{Key: x.key, Secret: x.secret, Kind: x.kind, BaseURL: s.link(r, "", "")}
	if sv.BaseURL == "" {
		sv.BaseURL = "https://your-twinex-host"
	}
	if x.key.PrevUntil != 0 {
		sv.Grace = time.Unix(0, x.key.PrevUntil).UTC().Format("2 Jan 2006 15:04 UTC")
	}
	s.render(w, r, http.StatusOK, "keysecret.html", view{Title: "Your new API secret", Nav: "api", Data: sv})
}

// secretStash holds new secrets between the form's redirect and the page
// that shows them.
type secretStash struct {
	mu sync.Mutex
	m  map[string]stashed
}

type stashed struct {
	session string
	key     twinex.APIKey
	secret  string
	kind    string
	expires time.Time
}

// stashLifetime bounds how long a secret waits to be shown.
const stashLifetime = 5 * time.Minute

func (x *secretStash) put(v stashed, now time.Time) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m == nil {
		x.m = map[string]stashed{}
	}
	for t, old := range x.m {
		if !now.Before(old.expires) {
			delete(x.m, t)
		}
	}
	token := randomToken()
	v.expires = now.Add(stashLifetime)
	x.m[token] = v
	return token
}

func (x *secretStash) take(token, session string, now time.Time) (stashed, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	v, ok := x.m[token]
	if !ok || v.session != session {
		return stashed{}, false
	}
	delete(x.m, token)
	return v, now.Before(v.expires)
}

// revokeKey revokes one of the user's keys; the next request with it fails.
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) {
	k, ok := s.ownKey(w, r)
	if !ok {
		return
	}
	if !s.revoke(w, r, k, func(msg string) {
		s.renderAPI(w, r, http.StatusUnprocessableEntity, view{Error: "To revoke " + k.ID + ", confirm with a code from your authenticator app.",
			Fields: map[string]string{"revoke_" + k.ID: msg}})
	}) {
		return
	}
	http.Redirect(w, r, "/settings/api?m=key_revoked", http.StatusSeeOther)
}

// rotateKey gives one of the user's keys a new secret, after the password;
// the old secret keeps working for the chosen grace period.
func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) {
	k, ok := s.ownKey(w, r)
	if !ok {
		return
	}
	fields := map[string]string{}
	if k.Revoked != 0 {
		s.renderAPI(w, r, http.StatusUnprocessableEntity, view{Error: "A revoked key cannot be rotated; create a new one."})
		return
	}
	var grace time.Duration
	switch r.PostFormValue("grace") {
	case "", "0":
	case "1h":
		grace = time.Hour
	case "24h":
		grace = 24 * time.Hour
	default:
		s.renderAPI(w, r, http.StatusUnprocessableEntity, view{Error: "Choose one of the offered grace periods."})
		return
	}
	if !s.confirmPassword(w, r, fields) {
		s.renderAPI(w, r, http.StatusUnprocessableEntity, view{Error: "To rotate " + k.ID + ", confirm with your password.", Fields: map[string]string{"rotate_" + k.ID: fields["password"]}})
		return
	}
	if ok, err := s.confirmMFA(r, fields); err != nil {
		s.fail(w, r, err)
		return
	} else if !ok {
		s.renderAPI(w, r, http.StatusUnprocessableEntity, view{Error: "To rotate " + k.ID + ", confirm with a code from your authenticator app.", Fields: map[string]string{"rotate_" + k.ID: fields["code"]}})
		return
	}
	nk, secret, err := s.Keys.Rotate(r.Context(), k.ID, grace)
	if errors.Is(err, keys.ErrRevoked) {
		s.renderAPI(w, r, http.StatusUnprocessableEntity, view{Error: "A revoked key cannot be rotated; create a new one."})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, k.UserID, "key_rotated", k.ID)
	s.sendMail(r.Context(), state(r).user.Email, "An API key's secret was rotated", keyMail("rotated", nk, state(r).ip))
	s.showSecret(w, r, nk, secret, "rotated")
}

// keyMail tells the user about a change to one of their keys; it never
// holds the secret.
func keyMail(what string, k twinex.APIKey, ip string) string {
	var b strings.Builder
	b.WriteString("The API key " + k.ID)
	if k.Label != "" {
		b.WriteString(" (" + k.Label + ")")
	}
	b.WriteString(" of your Twinex account was " + what + " from the address " + ip + ".\n\n")
	b.WriteString("Roles: " + strings.Join(k.Roles.Names(), ", ") + "\n")
	if len(k.Allowlist) > 0 {
		b.WriteString("May be used from: " + strings.Join(k.Allowlist, ", ") + "\n")
	}
	b.WriteString("\nIf this was not you, log in, revoke the key, reset your password and\nsign out your other sessions.\n")
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
