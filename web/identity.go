package web

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twinex/twinex"
)

// identityForm shows the identity verification form. A verified user is
// sent back to the settings; a pending or rejected one may submit again.
func (s *Server) identityForm(w http.ResponseWriter, r *http.Request) {
	u := state(r).user
	if u.Identity == twinex.IdentityVerified {
		http.Redirect(w, r, "/settings", http.StatusSeeOther)
		return
	}
	v := view{Title: "Verify your identity", Nav: "settings", Data: identityView{Status: u.Identity, Auto: s.AutoApproveIdentity}}
	if sub, err := s.Identities.Identity(r.Context(), u.ID); err == nil {
		v.Form = map[string]string{"legal_name": sub.LegalName, "birth_date": sub.BirthDate, "country": sub.Country, "address": sub.Address}
		v.Data = identityView{Status: u.Identity, Reason: sub.Reason, Auto: s.AutoApproveIdentity}
	} else if !isNotFound(err) {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "identity.html", v)
}

type identityView struct {
	Status twinex.IdentityStatus
	Reason string
	Auto   bool // approved at once
}

// submitIdentity records the user's identity details. With
// AutoApproveIdentity (the sandbox's default) they are approved at once;
// otherwise the operator reviews them (/admin/kyc, twinex admin kyc).
func (s *Server) submitIdentity(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	u := *st.user
	if u.Identity == twinex.IdentityVerified {
		http.Redirect(w, r, "/settings", http.StatusSeeOther)
		return
	}
	verified, err := s.emailVerified(r, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !verified {
		s.errorPage(w, r, http.StatusForbidden, "Verify your email address first", "Open the link we emailed you, then submit your identity details.")
		return
	}
	sub, fields := checkIdentity(r, st.now)
	if len(fields) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "identity.html", view{Title: "Verify your identity", Nav: "settings",
			Error: "Please correct the highlighted fields.", Fields: fields, Form: map[string]string{
				"legal_name": r.PostFormValue("legal_name"), "birth_date": r.PostFormValue("birth_date"),
				"country": r.PostFormValue("country"), "address": r.PostFormValue("address")},
			Data: identityView{Status: u.Identity, Auto: s.AutoApproveIdentity}})
		return
	}
	sub.UserID, sub.Submitted = u.ID, st.now.UnixNano()
	if err := s.Identities.SubmitIdentity(r.Context(), sub); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, u.ID, "identity_submitted", "")
	if s.AutoApproveIdentity {
		if err := s.Identities.ReviewIdentity(r.Context(), u.ID, twinex.IdentityVerified, "", st.now.UnixNano()); err != nil {
			s.fail(w, r, err)
			return
		}
		s.audit(r, u.ID, "identity_verified", "approved at once in the sandbox")
		http.Redirect(w, r, "/settings/api?m=identity_verified", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/settings?m=identity_submitted", http.StatusSeeOther)
}

// checkIdentity validates the identity form; fields holds an error per
// refused field.
func checkIdentity(r *http.Request, now time.Time) (twinex.IdentitySubmission, map[string]string) {
	fields := map[string]string{}
	clean := func(name string, max int) string {
		v := strings.TrimSpace(r.PostFormValue(name))
		switch {
		case v == "":
			fields[name] = "Required."
		case !utf8.ValidString(v) || strings.ContainsFunc(v, func(c rune) bool { return c < ' ' && c != '\n' && c != '\r' }):
			fields[name] = "Contains characters that are not allowed."
		case utf8.RuneCountInString(v) > max:
			fields[name] = "Too long."
		}
		return v
	}
	sub := twinex.IdentitySubmission{
		LegalName: clean("legal_name", 200),
		BirthDate: clean("birth_date", 10),
		Country:   strings.ToUpper(clean("country", 60)),
		Address:   clean("address", 500),
	}
	if _, bad := fields["birth_date"]; !bad {
		d, err := time.Parse("2006-01-02", sub.BirthDate)
		switch {
		case err != nil:
			fields["birth_date"] = "Enter your date of birth: day, month and year."
		case d.AddDate(18, 0, 0).After(now):
			fields["birth_date"] = "You must be at least 18 years old."
		case d.Year() < 1900:
			fields["birth_date"] = "Please check the year."
		}
	}
	if _, bad := fields["country"]; !bad {
		if countryName(sub.Country) == "" {
			fields["country"] = "Choose your country from the list."
		}
	}
	return sub, fields
}
