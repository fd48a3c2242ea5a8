package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/accounts"
	"github.com/twinex/twinex/admin"
)

// AccountExists is twinex.AccountExists, kept under its old name here.
const AccountExists = twinex.AccountExists

func (s *Server) routeAccounts() {
	s.mux.Handle("POST /admin/v1/accounts", s.admin(s.adminCreateAccount))
	s.mux.Handle("GET /admin/v1/accounts", s.admin(s.adminGetAccount))
}

// accountRef names an account in an admin request: by ledger id, or by the
// owner's email and the account's nickname (primary by default).
type accountRef struct {
	AccountID int64  `json:"account_id"`
	Email     string `json:"email"`
	Account   string `json:"account"`
}

// resolve returns the referenced account, which must exist.
func (s *Server) resolve(ctx context.Context, ref accountRef) (twinex.Account, error) {
	notFound := func() error {
		return twinex.Errorf(twinex.InvalidAccountName, "No such account")
	}
	if ref.AccountID != 0 {
		if ref.Email != "" || ref.Account != "" {
			return twinex.Account{}, twinex.Errorf(twinex.InvalidAccountName, "Give either account_id, or email and account")
		}
		a, err := s.Accounts.Account(ctx, ref.AccountID)
		if errors.Is(err, twinex.ErrNotFound) {
			return a, notFound()
		}
		return a, err
	}
	if ref.Email == "" {
		return twinex.Account{}, twinex.Errorf(twinex.MissingPayloadKey, "account_id or email is required")
	}
	u, err := s.Accounts.UserByEmail(ctx, ref.Email)
	if errors.Is(err, twinex.ErrNotFound) {
		return twinex.Account{}, notFound()
	}
	if err != nil {
		return twinex.Account{}, err
	}
	nick := ref.Account
	if nick == "" {
		nick = twinex.PrimaryNickname
	}
	list, err := s.Accounts.Accounts(ctx, u.ID)
	if err != nil {
		return twinex.Account{}, err
	}
	for _, a := range list {
		if a.Nickname == nick {
			return a, nil
		}
	}
	return twinex.Account{}, notFound()
}

func (s *Server) adminCreateAccount(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Verified bool   `json:"verified"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	u, primary, err := s.Users.CreateUser(r.Context(), accounts.NewUser{Email: req.Email, Password: req.Password, Verified: req.Verified})
	if err != nil {
		return err
	}
	s.Logger.Info("user created", "user", u.ID, "email", u.Email, "identity", u.Identity)
	writeJSON(w, http.StatusOK, userJSON(u, []twinex.Account{primary}))
	return nil
}

func (s *Server) adminGetAccount(w http.ResponseWriter, r *http.Request) error {
	u, err := s.adminUser(r, r.URL.Query().Get("email"))
	if err != nil {
		return err
	}
	list, err := s.Accounts.Accounts(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userJSON(u, list))
	return nil
}

func userJSON(u twinex.User, accounts []twinex.Account) admin.User {
	v := admin.User{ID: u.ID, Email: u.Email, Identity: string(u.Identity), Accounts: []admin.UserAccount{}}
	for _, a := range accounts {
		v.Accounts = append(v.Accounts, admin.UserAccount{AccountID: a.ID, Account: a.Nickname, Name: a.Name, Type: a.Type})
	}
	if len(accounts) > 0 {
		v.AccountID = accounts[0].ID
	}
	return v
}
