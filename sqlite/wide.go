package sqlite

import (
	"fmt"

	"github.com/twinex/twinex"
)

// Wide values (balances, holds and supplies, which are twinex.Int128) are
// stored as the decimal TEXT of their count of ledger units: exact at any
// size, and what a PostgreSQL NUMERIC column holds too. SQLite's NUMERIC
// affinity would not do: it turns integers past int64 into REAL. Migration
// 0012 converted the INTEGER columns of earlier versions.

// wideText is the text a wide value is stored as.
func wideText(v twinex.Int128) string { return v.String() }

// wideArg is the bound form of a wide value: an int64 when it fits, which
// the column's TEXT affinity stores as the same decimal text as wideText's,
// and costs neither the text's allocation in Go nor its copy into the
// driver's C memory; wideText otherwise.
func wideArg(v twinex.Int128) any {
	if n, ok := v.Int64(); ok {
		return n
	}
	return wideText(v)
}

// wideScan scans a wide column into v.
type wideScan struct{ v *twinex.Int128 }

func (w wideScan) Scan(src any) error {
	var err error
	switch s := src.(type) {
	case string:
		*w.v, err = twinex.ParseInt128(s)
	case []byte:
		*w.v, err = twinex.ParseInt128(string(s))
	case int64: // an integer the column was given by hand; exact
		*w.v = twinex.I128(s)
	default:
		err = fmt.Errorf("%T is not a wide value", src)
	}
	if err != nil {
		return fmt.Errorf("wide value: %w", err)
	}
	return nil
}
