package web

import (
	"net/http"
	"strings"

	"github.com/twinex/twinex"
)

// marketRows are the markets with their last price, 24-hour change and
// volume when the exchange service is there.
func (s *Server) marketRows() []tickerRow {
	if s.Markets == nil {
		return nil
	}
	var out []tickerRow
	for _, m := range s.Markets.List {
		out = append(out, tickerRow{Symbol: strings.ToUpper(m.Symbol), Base: m.Base, Quote: m.Quote, Status: string(m.Status),
			MinOrder: m.FormatAmount(m.MinAmount), Tick: m.FormatPrice(m.PriceTick), Last: "—", Change: "—", Volume: "—"})
	}
	if s.Exchange == nil {
		return out
	}
	for i, t := range s.Exchange.Tickers() {
		if i >= len(out) {
			break
		}
		out[i].Status = string(t.Status) // as the operator set it, live
		if t.Last == 0 {
			continue // never traded: no price to show
		}
		m := t.Market
		out[i].Last = group(m.FormatPrice(t.Last)) + " " + m.Quote
		out[i].Change, out[i].Direction = percent(t.Change)
		out[i].Volume = group(m.FormatAmount(t.Volume)) + " " + m.Base
	}
	return out
}

// step is one item of the "get ready to trade through the API" checklist.
type step struct {
	Title, Text string
	Done        bool
	Pending     bool // submitted, waiting for someone else
}

// account is what the overview and the settings know about the user.
type account struct {
	EmailVerified bool
	Identity      twinex.IdentityStatus
	Steps         []step
	Ready         bool // verified: the user may create API keys
	HasKey        bool // the user has an active API key
}

func (s *Server) account(r *http.Request, u twinex.User) (account, error) {
	verified, err := s.emailVerified(r, u)
	if err != nil {
		return account{}, err
	}
	ks, err := s.Accounts.Keys(r.Context(), u.ID)
	if err != nil {
		return account{}, err
	}
	hasKey := false
	now := state(r).now.UnixNano()
	for _, k := range ks {
		hasKey = hasKey || k.Active(now)
	}
	a := account{EmailVerified: verified, Identity: u.Identity, HasKey: hasKey}
	a.Steps = []step{
		{Title: "Verify your email address", Done: verified,
			Text: "Open the link we emailed you. It proves the address is yours, so that we can reach you about your account."},
		{Title: "Verify your identity", Done: u.Identity == twinex.IdentityVerified, Pending: u.Identity == twinex.IdentityPending,
			Text: identityText(u.Identity, s.AutoApproveIdentity)},
		{Title: "Create an API key", Done: hasKey, Text: "Choose its roles (Auditor, Trader, Fund Manager) and the addresses it may be used from. The secret is shown once."},
	}
	a.Ready = verified && u.Identity == twinex.IdentityVerified
	return a, nil
}

func identityText(st twinex.IdentityStatus, auto bool) string {
	switch st {
	case twinex.IdentityVerified:
		return "Your identity is verified."
	case twinex.IdentityPending:
		return "Your details are being reviewed. We will email you when the review is done."
	case twinex.IdentityRejected:
		return "Your identity could not be verified. You can submit your details again."
	}
	if auto {
		return "Only verified accounts can create API keys. On this exchange, identity checks are approved at once."
	}
	return "Only verified accounts can create API keys. The operator of this exchange reviews each request."
}

type homeView struct {
	Markets  []tickerRow
	Account  account
	Accounts []accountBalances
	Grants   []grantRow // the sandbox's test funds
}

// home is the landing page when signed out and the overview when signed
// in. Both embed the currency data script that ccxt scrapes from GET /.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	v := view{Title: "Twinex", Nav: "home", CurrencyData: s.CurrencyData}
	hv := homeView{Markets: s.marketRows(), Grants: s.grantRows()}
	if u := st.user; u != nil {
		v.Title = "Overview"
		var err error
		if hv.Account, err = s.account(r, *u); err != nil {
			s.fail(w, r, err)
			return
		}
		list, err := s.Accounts.Accounts(r.Context(), u.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if s.Exchange == nil {
			for _, a := range list {
				hv.Accounts = append(hv.Accounts, accountBalances{Account: a})
			}
		} else if hv.Accounts, err = s.balancesOf(r.Context(), list); err != nil {
			s.tradeFailed(w, r, err)
			return
		}
	}
	v.Data = hv
	s.render(w, r, http.StatusOK, "home.html", v)
}

type settingsView struct {
	Account   account
	Sessions  []sessionRow
	Activity  []AuditEvent
	Actions   map[string]string
	MFAActive bool // the current session gave a second factor
	MFAOn     bool // the user has a second factor
}

type sessionRow struct {
	Session
	Current bool
}

// auditActions are the audit log's actions as the settings page says them.
var auditActions = map[string]string{
	"signup":             "Account created",
	"email_verified":     "Email address verified",
	"verify_resent":      "Verification email sent again",
	"login":              "Logged in",
	"login_failed":       "Failed login",
	"logout":             "Logged out",
	"reset_requested":    "Password reset requested",
	"password_reset":     "Password changed with a reset link",
	"sessions_ended":     "Other sessions signed out",
	"identity_submitted": "Identity details submitted",
	"identity_verified":  "Identity verified",
	"key_created":        "API key created",
	"key_revoked":        "API key revoked",
	"key_edited":         "API key changed",
	"account_created":    "Account added",
	"identity_rejected":  "Identity not approved",
	"key_rotated":        "API key secret rotated",
	"confirm_failed":     "Wrong password when confirming a change",
	"login_password":     "Password accepted; second factor asked",
	"mfa_failed":         "Wrong two-factor code",
	"mfa_enabled":        "Two-factor authentication turned on",
	"mfa_disabled":       "Two-factor authentication turned off",
	"recovery_used":      "Recovery code used",
	"test_funds":         "Sandbox test funds added",
	"transfer":           "Funds moved between your accounts",
	"order_cancelled":    "Order cancelled",
	"order_placed":       "Order placed on the dashboard",
}

// settings shows the account, its verification state and what to do next,
// the active sessions and recent account activity. Later pages (identity,
// two-factor, API keys) hang off it.
func (s *Server) settings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := state(r)
	u := *st.user
	a, err := s.account(r, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sessions, err := s.Store.Sessions(ctx, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sv := settingsView{Account: a, Actions: auditActions, MFAActive: st.sess.MFA}
	now := st.now.UnixNano()
	for _, x := range sessions {
		if now >= x.Expires || now-x.LastSeen >= int64(SessionIdle) {
			continue // ended, not yet pruned
		}
		sv.Sessions = append(sv.Sessions, sessionRow{Session: x, Current: x.ID == st.sess.ID})
	}
	if _, sv.MFAOn, err = s.mfaState(r, u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if sv.Activity, err = s.Store.AuditLog(ctx, u.ID, 10); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "settings.html", view{Title: "Settings", Nav: "settings", Data: sv})
}

// revokeSessions signs out every other session of the user.
func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	if err := s.Store.DeleteUserSessions(r.Context(), st.user.ID, st.sess.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, st.user.ID, "sessions_ended", "")
	http.Redirect(w, r, "/settings?m=sessions_revoked", http.StatusSeeOther)
}

// activityLimit is how many events the activity page shows.
const activityLimit = 200

// activity shows the user's audit log.
func (s *Server) activity(w http.ResponseWriter, r *http.Request) {
	events, err := s.Store.AuditLog(r.Context(), state(r).user.ID, activityLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "activity.html", view{Title: "Account activity", Nav: "settings",
		Data: struct {
			Events  []AuditEvent
			Actions map[string]string
		}{events, auditActions}})
}
