package app

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/journal"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/postgres"
	"github.com/twinex/twinex/sqlite"
	"github.com/twinex/twinex/web"
)

// MigrateReport is what Migrate copied and found.
type MigrateReport struct {
	OK   bool             `json:"ok"` // counts match and the ledger invariants hold
	From string           `json:"from"`
	To   string           `json:"to"` // password redacted
	Rows map[string]int64 `json:"rows"`
	verified
}

// Migrate copies the SQLite installation in dataDir, which must be stopped,
// into the empty PostgreSQL schema at to, then checks the copy: every
// table has as many rows as in SQLite, the exchange recovers from it
// (LoadState, the ledger invariants), and every sealed secret opens with
// the installation's master key (dataDir's master.key, or keyFile).
//
// First it brings the installation to a clean close: the exchange is
// recovered from the SQLite store and its journal (a server killed leaves
// acknowledged commands in the journal alone) and closed, which projects
// and checkpoints them and empties the journal; so the tables hold
// everything, and the PostgreSQL journal starts empty.
func Migrate(ctx context.Context, dataDir, to, keyFile string) (MigrateReport, error) {
	rep := MigrateReport{From: "sqlite:" + dataDir, To: Redact(to)}
	if !IsPostgres(to) {
		return rep, fmt.Errorf("--to %q: want a postgres:// URL", Redact(to))
	}
	path := filepath.Join(dataDir, "twinex.db")
	if !fileExists(path) {
		return rep, fmt.Errorf("%s holds no Twinex store (no twinex.db)", dataDir)
	}
	markets, err := loadMarkets(dataDir)
	if err != nil {
		return rep, err
	}
	masterKey, err := auth.LoadMasterKey(dataDir, keyFile)
	if err != nil {
		return rep, err
	}
	sealer, err := auth.NewSealer(masterKey)
	if err != nil {
		return rep, err
	}
	if err := closeCleanly(ctx, dataDir, path, markets); err != nil {
		return rep, err
	}
	var srcs []*sql.DB
	for _, p := range []string{path, sqlite.LogPath(path)} {
		db, err := sql.Open("sqlite", "file:"+p+"?mode=ro")
		if err != nil {
			return rep, fmt.Errorf("open %s: %w", p, err)
		}
		defer db.Close()
		srcs = append(srcs, db)
	}
	pg, err := postgres.Open(ctx, to)
	if err != nil {
		return rep, err
	}
	defer pg.Close()
	if rep.Rows, err = pg.CopyTables(ctx, srcs...); err != nil {
		return rep, err
	}
	return rep, checkMigrated(ctx, pg, to, srcs, markets, sealer, &rep)
}

// closeCleanly recovers the exchange from the SQLite store and its file
// journal and closes it, so that the tables hold every acknowledged
// command and the journal is empty.
func closeCleanly(ctx context.Context, dataDir, path string, markets *twinex.Markets) error {
	store, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	defer store.Close()
	j, err := journal.Open(journalDir(dataDir))
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	defer j.Close()
	c, err := core.Open(ctx, core.Config{Store: store, Journal: j, Markets: markets})
	if err != nil {
		return fmt.Errorf("recovering the SQLite installation: %w", err)
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("closing the SQLite installation: %w", err)
	}
	// What the tables do not hold yet would not be copied: the records
	// after the projected sequence (those before it may stay in the
	// journal, and a replay from before them is refused).
	st, err := store.LoadState(ctx)
	if err != nil {
		return fmt.Errorf("reading the SQLite installation's projected sequence: %w", err)
	}
	var left int
	if err := j.Replay(ctx, st.JournalSeq, func(twinex.JournalRecord) error { left++; return nil }); err != nil {
		return fmt.Errorf("reading the SQLite installation's journal after a clean close: %w", err)
	}
	if left > 0 {
		return fmt.Errorf("the SQLite installation's journal still holds %d records after a clean close", left)
	}
	return nil
}

// checkMigrated compares the row counts, recovers the exchange from the
// copy and opens its sealed secrets.
func checkMigrated(ctx context.Context, pg *postgres.DB, to string, srcs []*sql.DB, markets *twinex.Markets, sealer *auth.Sealer, rep *MigrateReport) error {
	got, err := pg.CountRows(ctx)
	if err != nil {
		return err
	}
	for _, table := range slices.Sorted(maps.Keys(rep.Rows)) {
		var want int64
		for _, s := range srcs {
			if err := s.QueryRowContext(ctx, `SELECT count(*) FROM "`+table+`"`).Scan(&want); err == nil {
				break
			}
		}
		if got[table] != want || rep.Rows[table] != want {
			rep.Violations = append(rep.Violations, fmt.Sprintf("table %s: %d rows in SQLite, %d copied, %d in PostgreSQL", table, want, rep.Rows[table], got[table]))
		}
	}
	st := &state{store: pg, keys: &keys.Service{Store: pg, Sealer: sealer}, web: &web.Server{Sealer: sealer}}
	j, err := postgres.OpenJournal(ctx, to)
	if err != nil {
		return err
	}
	defer j.Close()
	if err := verifyStore(ctx, st, core.Config{Journal: j, Markets: markets}, "the copy", &rep.verified); err != nil {
		return err
	}
	rep.OK = len(rep.Violations) == 0
	if !rep.OK {
		return fmt.Errorf("the copy fails its check: %s", strings.Join(rep.Violations, "; "))
	}
	return nil
}
