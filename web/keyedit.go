package web

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/keys"
)

type editView struct {
	Key           twinex.APIKey
	RoleChoices   any
	ExpiryChoices any
	MFAOn         bool
}

// editKeyForm shows a key's editable settings.
func (s *Server) editKeyForm(w http.ResponseWriter, r *http.Request) {
	k, ok := s.ownKey(w, r)
	if !ok {
		return
	}
	form := map[string]string{"label": k.Label, "allowlist": strings.Join(k.Allowlist, "\n"), "expires": "keep"}
	for _, c := range roleChoices {
		if role, _ := twinex.ParseRoles(c.Value); k.Roles&role != 0 {
			form["roles_"+c.Value] = "on"
		}
	}
	s.renderEdit(w, r, http.StatusOK, k, view{Form: form})
}

func (s *Server) renderEdit(w http.ResponseWriter, r *http.Request, status int, k twinex.APIKey, v view) {
	if k.Revoked != 0 {
		s.errorPage(w, r, http.StatusGone, "This key is revoked", "A revoked key cannot be changed; create a new one.")
		return
	}
	_, on, err := s.mfaState(r, state(r).user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Title, v.Nav = "Edit API key", "api"
	v.Data = editView{Key: k, RoleChoices: roleChoices, ExpiryChoices: expiryChoices, MFAOn: on}
	s.render(w, r, status, "keyedit.html", v)
}

// editKey changes a key's label, roles, allowlist and expiry, after the
// password and (once enabled) a two-factor code.
func (s *Server) editKey(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	k, ok := s.ownKey(w, r)
	if !ok {
		return
	}
	form := map[string]string{"label": r.PostFormValue("label"), "allowlist": r.PostFormValue("allowlist"),
		"expires": r.PostFormValue("expires"), "expires_on": r.PostFormValue("expires_on")}
	roles, _ := formRoles(r, form)
	fields := map[string]string{}
	o := keys.EditOptions{Label: strings.TrimSpace(form["label"]), Roles: roles, Allowlist: splitAllowlist(form["allowlist"])}
	if form["expires"] == "keep" {
		strayDate(form["expires_on"], fields)
		if k.Expires != 0 {
			o.Expires = time.Unix(0, k.Expires)
		}
	} else {
		o.Expires = lifetime(form["expires"], form["expires_on"], st.now, fields)
	}
	checkKeySettings(fields, o.Label, o.Roles, k.Master, o.Allowlist)
	refuse := func(msg string) {
		s.renderEdit(w, r, http.StatusUnprocessableEntity, k, view{Error: msg, Fields: fields, Form: form})
	}
	if len(fields) > 0 {
		refuse("Please correct the highlighted fields.")
		return
	}
	if !s.stepUp(w, r, fields, refuse) {
		return
	}
	nk, err := s.Keys.Edit(r.Context(), k.ID, o)
	if errors.Is(err, keys.ErrInvalid) || errors.Is(err, keys.ErrRevoked) {
		refuse(capitalize(strings.TrimPrefix(err.Error(), keys.ErrInvalid.Error()+": ")) + ".")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, k.UserID, "key_edited", k.ID)
	s.sendMail(r.Context(), st.user.Email, "An API key was changed", keyMail("changed", nk, st.ip))
	http.Redirect(w, r, "/settings/api?m=key_edited", http.StatusSeeOther)
}

// formRoles reads the role checkboxes into form and returns the roles.
func formRoles(r *http.Request, form map[string]string) (twinex.Role, []string) {
	var names []string
	for _, c := range roleChoices {
		if r.PostFormValue("roles_"+c.Value) != "" {
			form["roles_"+c.Value] = "on"
			names = append(names, c.Value)
		}
	}
	roles, _ := twinex.ParseRoles(strings.Join(names, ",")) // the names come from roleChoices
	return roles, names
}

// splitAllowlist splits the allowlist box at commas, spaces and newlines.
func splitAllowlist(v string) []string {
	return strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' || c == ' ' || c == '\t' })
}

// checkKeySettings applies the rules keys.Create and keys.Edit enforce,
// marking the fields, so that the password is not asked in vain.
func checkKeySettings(fields map[string]string, label string, roles twinex.Role, master bool, allowlist []string) {
	if err := twinex.ValidateRoles(roles, master); err != nil {
		fields["roles"] = capitalize(err.Error()) + "."
	}
	if _, err := auth.ParseAllowlist(allowlist); err != nil {
		fields["allowlist"] = capitalize(err.Error()) + "."
	}
	if utf8.RuneCountInString(label) > 100 || len(label) > 100 || !utf8.ValidString(label) || strings.ContainsFunc(label, unicode.IsControl) {
		fields["label"] = "At most 100 characters, on one line."
	}
}
