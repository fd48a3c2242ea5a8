package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/api"
)

type accountsView struct {
	Accounts []twinex.Account
	Max      int
}

// accountsPage lists the accounts of the user's group (Gemini's
// sub-accounts) with the form to add one. A master key acts on any of them
// through the request's "account" field; an account key acts on its own.
func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccounts(w, r, http.StatusOK, view{})
}

func (s *Server) renderAccounts(w http.ResponseWriter, r *http.Request, status int, v view) {
	list, err := s.Accounts.Accounts(r.Context(), state(r).user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Data = "Accounts", "accounts", accountsView{Accounts: list, Max: api.MaxAccountsPerGroup}
	s.render(w, r, status, "accounts.html", v)
}

// createAccount adds an exchange account to the user's group, under the
// rules of /v1/account/create.
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	u := st.user
	raw := r.PostFormValue("name")
	name := strings.TrimSpace(raw)
	form := map[string]string{"name": raw}
	refuse := func(msg string) {
		s.renderAccounts(w, r, http.StatusUnprocessableEntity, view{Error: "Please correct the highlighted field.", Fields: map[string]string{"name": msg}, Form: form})
	}
	nick := twinex.Nickname(name)
	switch {
	case name == "":
		refuse("Enter a name.")
		return
	case nick == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		refuse("Use letters or digits, at most 100 characters.")
		return
	}
	list, err := s.Accounts.Accounts(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(list) >= api.MaxAccountsPerGroup {
		refuse("A group has at most " + strconv.Itoa(api.MaxAccountsPerGroup) + " accounts.")
		return
	}
	a := twinex.Account{UserID: u.ID, Name: name, Nickname: nick, Type: "exchange", Created: st.now.UnixNano()}
	if err := s.Accounts.CreateAccount(r.Context(), &a); errors.Is(err, twinex.ErrConflict) {
		refuse("You already have an account called " + nick + ".")
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, u.ID, "account_created", a.Nickname)
	http.Redirect(w, r, "/settings/accounts?m=account_created", http.StatusSeeOther)
}
