package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/twinex/twinex/storetest"
)

func TestDashboardContract(t *testing.T) {
	storetest.RunDashboard(t, func(t *testing.T, dir string) (storetest.DashboardStores, func()) {
		db := open(t, filepath.Join(dir, "twinex.db"))
		return db, func() { db.Close() }
	})
}
