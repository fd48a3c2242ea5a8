package web

import (
	"net/http"
	"strconv"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/watch"
)

// alertRow is one alert on the alerts page or in the banner.
type alertRow struct {
	twinex.Alert
	Title     string
	KeyLabel  string
	KeyActive bool // the key can still be revoked
}

type alertsView struct {
	Open, Dismissed []alertRow
	MFAOn           bool
}

// banner is the layout's summary of the user's open alerts.
type banner struct {
	Count  int
	Latest []alertRow // the newest few
}

// More is how many open alerts the banner does not list.
func (b *banner) More() int { return b.Count - len(b.Latest) }

// bannerFor loads a signed-in user's open alerts for the layout. A failure
// is logged and shows no banner: it must not break every page.
func (s *Server) bannerFor(r *http.Request, userID int64) *banner {
	if s.Watch == nil {
		return nil
	}
	n, err := s.Watch.OpenAlerts(r.Context(), userID)
	if err != nil || n == 0 {
		if err != nil {
			s.Logger.Error("web: alerts banner", "user", userID, "err", err)
		}
		return nil
	}
	list, err := s.Watch.Alerts(r.Context(), userID, false, 3)
	if err != nil {
		s.Logger.Error("web: alerts banner", "user", userID, "err", err)
		return nil
	}
	b := &banner{Count: n}
	for _, a := range list {
		b.Latest = append(b.Latest, alertRow{Alert: a, Title: watch.Titles[a.Kind]})
	}
	return b
}

// alerts lists the user's alerts, open ones first, each with its key and a
// one-step revoke.
func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	s.renderAlerts(w, r, http.StatusOK, view{})
}

func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, status int, v view) {
	ctx := r.Context()
	st := state(r)
	u := st.user
	av := alertsView{}
	var err error
	if _, av.MFAOn, err = s.mfaState(r, u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	var list []twinex.Alert
	if s.Watch != nil {
		if list, err = s.Watch.Alerts(ctx, u.ID, true, 200); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	ks, err := s.Accounts.Keys(ctx, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byID := map[string]twinex.APIKey{}
	for _, k := range ks {
		byID[k.ID] = k
	}
	now := st.now.UnixNano()
	for _, a := range list {
		row := alertRow{Alert: a, Title: watch.Titles[a.Kind]}
		if k, ok := byID[a.KeyID]; ok {
			row.KeyLabel, row.KeyActive = k.Label, k.Active(now)
		}
		if a.Dismissed == 0 {
			av.Open = append(av.Open, row)
		} else {
			av.Dismissed = append(av.Dismissed, row)
		}
	}
	v.Title, v.Nav, v.Data = "Alerts", "alerts", av
	s.render(w, r, status, "alerts.html", v)
}

// ownAlert finds the alert named in the path among the user's; it answers
// 404 otherwise.
func (s *Server) ownAlert(w http.ResponseWriter, r *http.Request) (twinex.Alert, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil && s.Watch != nil {
		a, err := s.Watch.Alert(r.Context(), state(r).user.ID, id)
		if err == nil {
			return a, true
		}
		if !isNotFound(err) {
			s.fail(w, r, err)
			return twinex.Alert{}, false
		}
	}
	s.errorPage(w, r, http.StatusNotFound, "No such alert", "That alert does not exist or is not yours.")
	return twinex.Alert{}, false
}

// dismissAlert hides an alert from the banner; it stays listed.
func (s *Server) dismissAlert(w http.ResponseWriter, r *http.Request) {
	a, ok := s.ownAlert(w, r)
	if !ok {
		return
	}
	if err := s.Watch.DismissAlerts(r.Context(), a.UserID, a.ID, "", state(r).now.UnixNano()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/alerts?m=alert_dismissed", http.StatusSeeOther)
}

// revokeFromAlert revokes an alert's key in one step, confirmed with a
// second-factor code when the user has one; the key's alerts are then
// dismissed.
func (s *Server) revokeFromAlert(w http.ResponseWriter, r *http.Request) {
	a, ok := s.ownAlert(w, r)
	if !ok {
		return
	}
	k, err := s.Accounts.Key(r.Context(), a.KeyID)
	if err != nil && !isNotFound(err) {
		s.fail(w, r, err)
		return
	}
	if err != nil || k.UserID != a.UserID {
		s.renderAlerts(w, r, http.StatusUnprocessableEntity, view{Error: "That key no longer exists."})
		return
	}
	if !s.revoke(w, r, k, func(msg string) {
		s.renderAlerts(w, r, http.StatusUnprocessableEntity, view{Error: "To revoke " + k.ID + ", confirm with a code from your authenticator app.",
			Fields: map[string]string{"revoke_" + strconv.FormatInt(a.ID, 10): msg}})
	}) {
		return
	}
	http.Redirect(w, r, "/settings/alerts?m=key_revoked", http.StatusSeeOther)
}

// revoke revokes one of the user's keys, after a second-factor code when
// the user has one (the key service's OnRevoke dismisses its alerts), and
// records and mails it; a revoked key is left as it is. When the code is
// refused it calls refused with the field's message. It reports false
// after answering.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request, k twinex.APIKey, refused func(msg string)) bool {
	if k.Revoked != 0 {
		return true
	}
	fields := map[string]string{}
	ok, err := s.confirmMFA(r, fields)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if !ok {
		refused(fields["code"])
		return false
	}
	st := state(r)
	if _, err := s.Keys.Revoke(r.Context(), k.ID); err != nil {
		s.fail(w, r, err)
		return false
	}
	s.audit(r, k.UserID, "key_revoked", k.ID)
	s.sendMail(r.Context(), st.user.Email, "An API key was revoked", keyMail("revoked", k, st.ip))
	return true
}
