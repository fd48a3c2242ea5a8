package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/accounts"
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
	v.Title, v.Nav, v.Data = "Accounts", "accounts", accountsView{Accounts: list, Max: accounts.MaxAccountsPerGroup}
	s.render(w, r, status, "accounts.html", v)
}

// createAccount adds an exchange account to the user's group, under the
// rules of /v1/account/create.
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	u := st.user
	raw := r.PostFormValue("name")
	form := map[string]string{"name": raw}
	a, err := s.Users.CreateAccount(r.Context(), u.ID, raw, "exchange")
	if err != nil {
		var msg string
		switch twinex.ErrorReason(err) {
		case twinex.MissingName:
			msg = "Enter a name."
		case twinex.InvalidAccountName:
			msg = "Use letters or digits, at most " + strconv.Itoa(accounts.MaxNameLen) + " characters."
		case twinex.ExceededMaxAccounts:
			msg = "A group has at most " + strconv.Itoa(accounts.MaxAccountsPerGroup) + " accounts."
		case twinex.ConflictingAccountName:
			msg = "You already have an account called " + twinex.Nickname(strings.TrimSpace(raw)) + "."
		default:
			s.fail(w, r, err)
			return
		}
		s.renderAccounts(w, r, http.StatusUnprocessableEntity, view{Error: "Please correct the highlighted field.", Fields: map[string]string{"name": msg}, Form: form})
		return
	}
	s.audit(r, u.ID, "account_created", a.Nickname)
	http.Redirect(w, r, "/settings/accounts?m=account_created", http.StatusSeeOther)
}
