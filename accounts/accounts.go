// Package accounts is the users-and-accounts service: creating users (the
// email and password rules) and the accounts of a group (the name rules
// and the group's size). The Gemini API, the admin API, the dashboard and
// the sandbox all call it, so each rule has one home.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/password"
)

// MaxAccountsPerGroup bounds the accounts of one group.
const MaxAccountsPerGroup = 100

// MaxNameLen bounds an account's name, in characters.
const MaxNameLen = 100

// Service creates users and accounts. Store is required.
type Service struct {
	Store twinex.AccountStore
	Now   func() time.Time // default time.Now
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// CheckName checks an account's name as a user typed it and returns it
// trimmed with its nickname (twinex.Nickname). Reasons: MissingName (empty),
// InvalidAccountName (over MaxNameLen characters, invalid UTF-8, control
// characters, or nothing a nickname can be made of).
func CheckName(raw string) (name, nick string, err error) {
	name = strings.TrimSpace(raw)
	if name == "" {
		return "", "", twinex.Errorf(twinex.MissingName, "A name is required")
	}
	nick = twinex.Nickname(name)
	if nick == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLen || strings.ContainsFunc(name, unicode.IsControl) {
		return "", "", twinex.Errorf(twinex.InvalidAccountName, "The name must have letters or digits and at most %d characters", MaxNameLen)
	}
	return name, nick, nil
}

// CreateAccount adds an exchange account named name to the user's group.
// typ must be "" or "exchange". Reasons: those of CheckName,
// InvalidAccountType, ExceededMaxAccountsInGroup (the group has
// MaxAccountsPerGroup), ConflictingAccountName (the nickname is taken in
// the group); a store failure is returned as it is.
func (s *Service) CreateAccount(ctx context.Context, userID int64, name, typ string) (twinex.Account, error) {
	name, nick, err := CheckName(name)
	if err != nil {
		return twinex.Account{}, err
	}
	if typ != "" && typ != "exchange" {
		return twinex.Account{}, twinex.Errorf(twinex.InvalidAccountType, "Only exchange accounts are available")
	}
	list, err := s.Store.Accounts(ctx, userID)
	if err != nil {
		return twinex.Account{}, fmt.Errorf("accounts: %w", err)
	}
	if len(list) >= MaxAccountsPerGroup {
		return twinex.Account{}, twinex.Errorf(twinex.ExceededMaxAccounts, "A group has at most %d accounts", MaxAccountsPerGroup)
	}
	a := twinex.Account{UserID: userID, Name: name, Nickname: nick, Type: "exchange", Created: s.now().UnixNano()}
	if err := s.Store.CreateAccount(ctx, &a); errors.Is(err, twinex.ErrConflict) {
		return twinex.Account{}, &twinex.Error{Reason: twinex.ConflictingAccountName,
			Message: fmt.Sprintf("An account named %s already exists in the group", nick), Err: err}
	} else if err != nil {
		return twinex.Account{}, fmt.Errorf("accounts: %w", err)
	}
	return a, nil
}

// NewUser is a user to create.
type NewUser struct {
	Email string
	// Password, when not empty, must pass password.CheckFor; an empty one
	// makes a user who cannot log in until they reset it (admin and
	// sandbox users).
	Password string
	Verified bool // identity verified already (operators, the sandbox)
}

// CreateUser creates a user and its primary account. The password is
// hashed before the store is asked, so a taken email costs the same time
// as a new one. Reasons: InvalidEmail, InvalidPassword, AccountExists
// (wrapping twinex.ErrConflict); a store failure is returned as it is.
func (s *Service) CreateUser(ctx context.Context, n NewUser) (twinex.User, twinex.Account, error) {
	email, err := twinex.ParseEmail(n.Email)
	if err != nil {
		return twinex.User{}, twinex.Account{}, &twinex.Error{Reason: twinex.InvalidEmail,
			Message: fmt.Sprintf("%q is not a valid email address", truncate(strings.TrimSpace(n.Email), 80)), Err: err}
	}
	u := twinex.User{Email: email, Identity: twinex.IdentityNone, Created: s.now().UnixNano()}
	if n.Verified {
		u.Identity = twinex.IdentityVerified
	}
	if n.Password != "" {
		if err := password.CheckFor(n.Password, email); err != nil {
			return twinex.User{}, twinex.Account{}, &twinex.Error{Reason: twinex.InvalidPassword, Message: err.Error(), Err: err}
		}
		if u.PasswordHash, err = password.Hash(n.Password); err != nil {
			return twinex.User{}, twinex.Account{}, fmt.Errorf("accounts: %w", err)
		}
	}
	primary, err := s.Store.CreateUser(ctx, &u)
	if errors.Is(err, twinex.ErrConflict) {
		return twinex.User{}, twinex.Account{}, &twinex.Error{Reason: twinex.AccountExists,
			Message: fmt.Sprintf("A user with email %s already exists", email), Err: err}
	}
	if err != nil {
		return twinex.User{}, twinex.Account{}, fmt.Errorf("accounts: %w", err)
	}
	return u, primary, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
