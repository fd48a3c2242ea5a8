package postgres_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex/sqlite"

	_ "modernc.org/sqlite" // the "sqlite" driver, to read the SQLite store's schema
)

// journalTables are the PostgreSQL store's tables of the command journal
// (postgres.Journal), which the SQLite table journal keeps in a file of its
// own (sqlite.OpenJournal) and the default journal in files, and the
// leader's lease, which only servers sharing a database need.
var journalTables = []string{"journal", "journal_id", "journal_cut", "leader"}

// TestSchemaMatchesSQLite: the two stores have the same tables with the
// same columns (bar the journal's), so that moving an installation from
// one to the other is a copy, table by table. A migration added to
// one store's folder without its twin fails here.
func TestSchemaMatchesSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "twinex.db")
	lite, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	lite.Close()
	want := map[string][]string{}
	for _, p := range []string{path, sqlite.LogPath(path)} {
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, `SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
			WHERE m.type = 'table' AND m.name <> 'schema_migrations' ORDER BY m.name, c.name`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			want[table] = append(want[table], col)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		db.Close()
	}
	if len(want["users"]) == 0 || len(want["activity"]) == 0 {
		t.Fatalf("read no users or activity table from the SQLite store: %v", want)
	}

	url := pg.Schema(t)
	open(t, url).Close()
	conn := raw(t, url)
	rows, _ := conn.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' ORDER BY table_name, column_name`)
	got := map[string][]string{}
	type col struct{ table, name string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
		var c col
		err := r.Scan(&c.table, &c.name)
		return c, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		got[c.table] = append(got[c.table], c.name)
	}
	for table, cs := range want {
		if !reflect.DeepEqual(got[table], cs) {
			t.Errorf("table %s: PostgreSQL has columns %q, SQLite %q", table, got[table], cs)
		}
	}
	for table := range got {
		if _, ok := want[table]; !ok && !slices.Contains(journalTables, table) {
			t.Errorf("table %s is in PostgreSQL only", table)
		}
	}
}
