package postgres_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex/postgres"
)

// raw connects to url without the store, to inspect or tamper with it.
func raw(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

type migrationRow struct {
	version int64
	at      time.Time
}

func migrationRows(t *testing.T, url string) []migrationRow {
	t.Helper()
	rows, _ := raw(t, url).Query(context.Background(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (migrationRow, error) {
		var m migrationRow
		err := r.Scan(&m.version, &m.at)
		return m, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestOpenIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pg.Schema(t)
	db := open(t, url)
	v, err := db.Version(ctx)
	if err != nil || v < 1 {
		t.Fatalf("Version = %d, %v", v, err)
	}
	if err := db.SetUserPlan(ctx, 1, "pro"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	first := migrationRows(t, url)
	if len(first) == 0 || first[len(first)-1].version != v {
		t.Fatalf("after the first open: %+v, version %d", first, v)
	}

	db = open(t, url)
	defer db.Close()
	again := migrationRows(t, url)
	if len(again) != len(first) || again[len(again)-1] != first[len(first)-1] {
		t.Errorf("a second open changed schema_migrations: %+v, was %+v", again, first)
	}
	if p, err := db.UserPlan(ctx, 1); err != nil || p != "pro" {
		t.Errorf("plan after reopen = %q, %v", p, err)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	t.Parallel()
	url := pg.Schema(t)
	open(t, url).Close()
	if _, err := raw(t, url).Exec(context.Background(), `INSERT INTO schema_migrations (version) VALUES (9999)`); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(context.Background(), url)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database from a newer binary succeeded")
	}
	if !errors.Is(err, postgres.ErrNewerSchema) {
		t.Errorf("error = %v, want ErrNewerSchema", err)
	}
	t.Logf("error: %v", err)
}

// TestOpenConcurrently: servers started together on an empty database
// take turns at the migrations; each applies once.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	url := pg.Schema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), url)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// Each migration applied once: as many rows as files, in rising order.
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	ms := migrationRows(t, url)
	if len(ms) != len(files) {
		t.Fatalf("schema_migrations has %d rows for %d migrations: %+v", len(ms), len(files), ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].version <= ms[i-1].version {
			t.Fatalf("schema_migrations %+v", ms)
		}
	}
}

// TestOpenUnreachable: a server that is not there is an error soon, which
// does not show the URL's password.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, "postgres://twinex:hunter2@127.0.0.1:1/twinex?connect_timeout=2")
	if err == nil {
		db.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("the error shows the password: %v", err)
	}
	if _, err := postgres.Open(ctx, "postgres://twinex:hunter2@127.0.0.1:5432/twinex?sslmode=bogus"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a URL that does not parse: %v", err)
	}
}
