package postgres_test

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/mail/mailtest"
	"github.com/twinex/twinex/postgres"
	"github.com/twinex/twinex/postgres/pgtest"
	"github.com/twinex/twinex/storetest"
)

// pg is the server the tests make their schemas in. Each test has schemas
// of its own, so they run in parallel.
var pg = pgtest.FromEnv(os.Getenv)

// open opens the store at url.
func open(tb testing.TB, url string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// opener returns a function that opens the store of a directory of the
// contract suites: each directory is a schema of its own.
func opener() func(t *testing.T, dir string) *postgres.DB {
	schemas := pgtest.Schemas{Server: pg}
	return func(t *testing.T, dir string) *postgres.DB {
		return open(t, schemas.For(t, dir))
	}
}

func TestAccountContract(t *testing.T) {
	t.Parallel()
	open := opener()
	storetest.RunAccounts(t, func(t *testing.T, dir string) (twinex.AccountStore, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestAddressContract(t *testing.T) {
	t.Parallel()
	open := opener()
	storetest.RunAddresses(t, func(t *testing.T, dir string) (twinex.AddressStore, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestIdentityContract(t *testing.T) {
	t.Parallel()
	open := opener()
	storetest.RunIdentity(t, func(t *testing.T, dir string) (twinex.AccountStore, twinex.IdentityStore, func()) {
		db := open(t, dir)
		return db, db, func() { db.Close() }
	})
}

func TestWatchContract(t *testing.T) {
	t.Parallel()
	open := opener()
	storetest.RunWatch(t, func(t *testing.T, dir string) (storetest.WatchStores, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestMailStore(t *testing.T) {
	t.Parallel()
	mailtest.Run(t, func(t *testing.T) mail.MailStore {
		db := open(t, pg.Schema(t))
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestMailboxSurvivesReopen: the sandbox's mailbox is still there after a
// restart.
func TestMailboxSurvivesReopen(t *testing.T) {
	t.Parallel()
	open := opener()
	mailtest.RunReopen(t, func(t *testing.T, dir string) (mail.MailStore, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestDashboardContract(t *testing.T) {
	t.Parallel()
	open := opener()
	storetest.RunDashboard(t, func(t *testing.T, dir string) (storetest.DashboardStores, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestActivityContract(t *testing.T) {
	t.Parallel()
	open := opener()
	storetest.RunActivity(t, func(t *testing.T, dir string) (twinex.ActivityStore, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

// TestSealedSecrets: every sealed value is listed, for the master-key check
// of a move or a restore.
func TestSealedSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, pg.Schema(t))
	defer db.Close()
	u := twinex.User{Email: "s@x.io"}
	p, err := db.CreateUser(ctx, &u)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []twinex.APIKey{
		{ID: "account-a", UserID: u.ID, AccountID: p.ID, Secret: []byte("sa")},
		{ID: "account-b", UserID: u.ID, AccountID: p.ID, Secret: []byte("sb"), PrevSecret: []byte("pb"), PrevUntil: 9},
	} {
		if err := db.CreateKey(ctx, &k); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.StartMFA(ctx, u.ID, []byte("totp")); err != nil {
		t.Fatal(err)
	}
	got, err := db.SealedSecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(x, y postgres.SealedSecret) int { return strings.Compare(string(x.Sealed), string(y.Sealed)) })
	want := []postgres.SealedSecret{
		{KeyID: "account-b", Prev: true, Sealed: []byte("pb")},
		{KeyID: "account-a", Sealed: []byte("sa")},
		{KeyID: "account-b", Sealed: []byte("sb")},
		{UserID: u.ID, Sealed: []byte("totp")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SealedSecrets = %+v, want %+v", got, want)
	}
}
