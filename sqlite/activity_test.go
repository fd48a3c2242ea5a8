package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/storetest"
)

func TestActivityContract(t *testing.T) {
	storetest.RunActivity(t, func(t *testing.T, dir string) (twinex.ActivityStore, func()) {
		db := open(t, filepath.Join(dir, "twinex.db"))
		return db, func() { db.Close() }
	})
}
