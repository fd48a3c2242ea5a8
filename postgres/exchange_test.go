package postgres_test

import (
	"testing"

	"github.com/twinex/twinex"
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
