package postgres_test

import (
	"context"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/postgres"
	"github.com/twinex/twinex/postgres/pgtest"
	"github.com/twinex/twinex/storetest"
)

// TestStore runs the exchange store's contract suite, as the SQLite
// store's TestStore does; each directory of the suite is a schema.
func TestStore(t *testing.T) {
	t.Parallel()
	open := opener()
	storetest.Run(t, func(t *testing.T, dir string) twinex.ExchangeStore {
		return open(t, dir)
	})
}

func TestJournalContract(t *testing.T) {
	t.Parallel()
	schemas := pgtest.Schemas{Server: pg}
	storetest.RunJournal(t, func(t *testing.T, dir string) twinex.Journal {
		j, err := postgres.OpenJournal(context.Background(), schemas.For(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		return j
	})
}
