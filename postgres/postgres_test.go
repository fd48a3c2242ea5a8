package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/mail/mailtest"
	"github.com/twinex/twinex/postgres"
	"github.com/twinex/twinex/postgres/pgtest"
	"github.com/twinex/twinex/storetest"
)

// pg is the server the tests make their schemas in.
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
	open := opener()
	storetest.RunAccounts(t, func(t *testing.T, dir string) (twinex.AccountStore, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestAddressContract(t *testing.T) {
	open := opener()
	storetest.RunAddresses(t, func(t *testing.T, dir string) (twinex.AddressStore, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestIdentityContract(t *testing.T) {
	open := opener()
	storetest.RunIdentity(t, func(t *testing.T, dir string) (twinex.AccountStore, twinex.IdentityStore, func()) {
		db := open(t, dir)
		return db, db, func() { db.Close() }
	})
}

func TestWatchContract(t *testing.T) {
	open := opener()
	storetest.RunWatch(t, func(t *testing.T, dir string) (storetest.WatchStores, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestMailStore(t *testing.T) {
	mailtest.Run(t, func(t *testing.T) mail.MailStore {
		db := open(t, pg.Schema(t))
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestMailboxSurvivesReopen: the sandbox's mailbox is still there after a
// restart.
func TestMailboxSurvivesReopen(t *testing.T) {
	open := opener()
	mailtest.RunReopen(t, func(t *testing.T, dir string) (mail.MailStore, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestDashboardContract(t *testing.T) {
	open := opener()
	storetest.RunDashboard(t, func(t *testing.T, dir string) (storetest.DashboardStores, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}

func TestActivityContract(t *testing.T) {
	open := opener()
	storetest.RunActivity(t, func(t *testing.T, dir string) (twinex.ActivityStore, func()) {
		db := open(t, dir)
		return db, func() { db.Close() }
	})
}
