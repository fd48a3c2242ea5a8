package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twinex/twinex/app"
)

const migrateUsage = `Usage: twinex admin migrate --from sqlite:DIR --to postgres://USER@HOST:PORT/DB [--master-key-file F]

Copies a SQLite installation (the data directory DIR, its server stopped)
into an empty PostgreSQL schema (the URL's search_path chooses it; public by
default), then checks the copy: every table has as many rows as in SQLite,
the exchange recovers from it with its ledger invariants holding, and every
sealed secret opens with the installation's master key (DIR/master.key, or
--master-key-file, or TWINEX_MASTER_KEY_FILE). Commands the SQLite journal
holds (a server that was killed) are projected into the SQLite tables first.
Prints a JSON report; exits 1 if the copy fails its check.

Then start the servers with --store and the same URL, each with a data
directory holding DIR's admin.token and master.key (or the same
TWINEX_ADMIN_TOKEN and TWINEX_MASTER_KEY_FILE).
`

func adminMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin migrate", migrateUsage, stderr)
	from := fs.String("from", "", "the SQLite installation: sqlite:DIR")
	to := fs.String("to", "", "the PostgreSQL database: a postgres:// URL (its schema empty)")
	keyFile := fs.String("master-key-file", os.Getenv("TWINEX_MASTER_KEY_FILE"), "the master key, if not DIR/master.key (TWINEX_MASTER_KEY_FILE)")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, ok := strings.CutPrefix(*from, "sqlite:")
	if !ok || dir == "" || !app.IsPostgres(*to) || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	rep, err := app.Migrate(ctx, dir, *to, *keyFile)
	out, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Fprintf(stdout, "%s\n", out)
	return err
}
