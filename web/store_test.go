package web_test

import (
	"github.com/twinex/twinex/sqlite"
	"github.com/twinex/twinex/web"
)

// The SQLite store is the dashboard's store. Asserted here, not in package
// sqlite, so that sqlite need not import web.
var _ web.Store = (*sqlite.DB)(nil)
