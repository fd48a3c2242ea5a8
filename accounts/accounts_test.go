package accounts_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/accounts"
	"github.com/twinex/twinex/sqlite"
)

func newService(t *testing.T) *accounts.Service {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "twinex.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &accounts.Service{Store: db}
}

func TestCreateUser(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	u, primary, err := s.CreateUser(ctx, accounts.NewUser{Email: " Ann@Example.com ", Password: "correct horse battery", Verified: true})
	if err != nil || u.Email != "ann@example.com" || u.Identity != twinex.IdentityVerified || u.PasswordHash == "" || primary.UserID != u.ID {
		t.Fatalf("CreateUser: %+v %+v %v", u, primary, err)
	}
	for _, c := range []struct {
		n      accounts.NewUser
		reason string
	}{
		{accounts.NewUser{Email: "ann@example.com"}, twinex.AccountExists},
		{accounts.NewUser{Email: "bob@nodot"}, twinex.InvalidEmail},
		{accounts.NewUser{Email: "bob\ufffd@example.com"}, twinex.InvalidEmail},
		{accounts.NewUser{Email: "bob@example.com", Password: "short"}, twinex.InvalidPassword},
		{accounts.NewUser{Email: "robert@example.com", Password: "my name is robert"}, twinex.InvalidPassword},
	} {
		if _, _, err := s.CreateUser(ctx, c.n); twinex.ErrorReason(err) != c.reason {
			t.Errorf("CreateUser(%+v): %v, want %s", c.n, err, c.reason)
		}
	}
	if _, _, err := s.CreateUser(ctx, accounts.NewUser{Email: "ann@example.com"}); !errors.Is(err, twinex.ErrConflict) {
		t.Errorf("a taken email does not wrap ErrConflict: %v", err)
	}
}

func TestCreateAccount(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	u, _, err := s.CreateUser(ctx, accounts.NewUser{Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.CreateAccount(ctx, u.ID, "  Grid Bot ", "")
	if err != nil || a.Name != "Grid Bot" || a.Nickname != "grid-bot" || a.Type != "exchange" {
		t.Fatalf("CreateAccount: %+v %v", a, err)
	}
	for _, c := range []struct{ name, typ, reason string }{
		{"   ", "", twinex.MissingName},
		{"grid bot", "", twinex.ConflictingAccountName},
		{"x", "margin", twinex.InvalidAccountType},
		{"!!!", "", twinex.InvalidAccountName},
		{"a" + strings.Repeat("é", accounts.MaxNameLen), "", twinex.InvalidAccountName}, // characters, not bytes
		{"a\x00b", "", twinex.InvalidAccountName},
	} {
		if _, err := s.CreateAccount(ctx, u.ID, c.name, c.typ); twinex.ErrorReason(err) != c.reason {
			t.Errorf("CreateAccount(%q, %q): %v, want %s", c.name, c.typ, err, c.reason)
		}
	}
	if _, err := s.CreateAccount(ctx, u.ID, "a"+strings.Repeat("é", accounts.MaxNameLen-1), ""); err != nil {
		t.Errorf("a name of %d two-byte characters: %v", accounts.MaxNameLen, err)
	}
	for i := 3; i < accounts.MaxAccountsPerGroup; i++ {
		if _, err := s.CreateAccount(ctx, u.ID, "bot "+strconv.Itoa(i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateAccount(ctx, u.ID, "one too many", ""); twinex.ErrorReason(err) != twinex.ExceededMaxAccounts {
		t.Fatalf("account %d: %v", accounts.MaxAccountsPerGroup+1, err)
	}
}
