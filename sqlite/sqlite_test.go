package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/sqlite"
	"github.com/twinex/twinex/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) twinex.ExchangeStore {
		return open(t, filepath.Join(dir, "twinex.db"))
	})
}

func open(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// rawDB opens path without the store, to inspect or tamper with it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func migrationRows(t *testing.T, path string) (n, latest int64, appliedAt []int64) {
	t.Helper()
	db := rawDB(t, path)
	rows, err := db.Query(`SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v, at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		n, latest = n+1, v
		appliedAt = append(appliedAt, at)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return n, latest, appliedAt
}

func TestOpenIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twinex.db")
	db := open(t, path)
	if err := db.Commit(context.Background(), &twinex.Batch{Meta: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	n1, v1, at1 := migrationRows(t, path)
	if n1 == 0 || v1 < 1 {
		t.Fatalf("after first open: %d migrations, latest %d", n1, v1)
	}

	db = open(t, path)
	defer db.Close()
	n2, v2, at2 := migrationRows(t, path)
	if n2 != n1 || v2 != v1 || at2[len(at2)-1] != at1[len(at1)-1] {
		t.Errorf("second open changed schema_migrations: %d/%d/%v, was %d/%d/%v", n2, v2, at2, n1, v1, at1)
	}
	s, err := db.LoadState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Meta["k"] != "v" {
		t.Errorf("meta after reopen = %v", s.Meta)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twinex.db")
	if err := open(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := sqlite.Open(path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database from a newer binary succeeded")
	}
	if !errors.Is(err, sqlite.ErrNewerSchema) {
		t.Errorf("error = %v, want ErrNewerSchema", err)
	}
	t.Logf("error: %v", err)
}

func TestOpenBadPath(t *testing.T) {
	for _, p := range []string{"", filepath.Join(t.TempDir(), "a?b.db"), filepath.Join(t.TempDir(), "missing", "x.db")} {
		if db, err := sqlite.Open(p); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestPragmas checks the settings durability depends on, on the writer.
func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twinex.db")
	db := open(t, path)
	defer db.Close()
	raw := rawDB(t, path)
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestAccountContract(t *testing.T) {
	storetest.RunAccounts(t, func(t *testing.T, dir string) (twinex.AccountStore, func()) {
		db, err := sqlite.Open(filepath.Join(dir, "twinex.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db, func() { db.Close() }
	})
}

// TestCommitWritesKeyUses: a batch's key uses are durable with it, in the
// same transaction (the store is both the exchange and the account store).
func TestCommitWritesKeyUses(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "twinex.db"))
	defer db.Close()
	ctx := context.Background()
	u := twinex.User{Email: "n@x.io"}
	p, err := db.CreateUser(ctx, &u)
	if err != nil {
		t.Fatal(err)
	}
	k := twinex.APIKey{ID: "account-00000000000000000009", UserID: u.ID, AccountID: p.ID, Roles: twinex.RoleTrader, Secret: []byte("s")}
	if err := db.CreateKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	b := &twinex.Batch{KeyUses: []twinex.KeyUse{{ID: k.ID, LastNonce: "1795648307705", LastUsed: 5, LastIP: "127.0.0.1", Seq: 2}}}
	if err := db.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Key(ctx, k.ID)
	if got.LastNonce != "1795648307705" || got.LastUsed != 5 || got.LastIP != "127.0.0.1" || got.UseSeq != 2 {
		t.Fatalf("key after commit %+v", got)
	}
	// A batch carrying an older use (smaller Seq) leaves the newer mark.
	if err := db.Commit(ctx, &twinex.Batch{KeyUses: []twinex.KeyUse{{ID: k.ID, LastNonce: "1795648307700", Seq: 1}}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Key(ctx, k.ID); got.LastNonce != "1795648307705" {
		t.Fatalf("a stale batch took the mark back to %s", got.LastNonce)
	}
}

func TestAddressContract(t *testing.T) {
	storetest.RunAddresses(t, func(t *testing.T, dir string) (twinex.AddressStore, func()) {
		db, err := sqlite.Open(filepath.Join(dir, "twinex.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db, func() { db.Close() }
	})
}

func TestIdentityContract(t *testing.T) {
	storetest.RunIdentity(t, func(t *testing.T, dir string) (twinex.AccountStore, twinex.IdentityStore, func()) {
		db := open(t, filepath.Join(dir, "twinex.db"))
		return db, db, func() { db.Close() }
	})
}

func TestWatchContract(t *testing.T) {
	storetest.RunWatch(t, func(t *testing.T, dir string) (storetest.WatchStores, func()) {
		db := open(t, filepath.Join(dir, "twinex.db"))
		return db, func() { db.Close() }
	})
}

// TestCommitWritesKeyReplays: a batch's replay marks are durable with it.
func TestCommitWritesKeyReplays(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "twinex.db"))
	defer db.Close()
	ctx := context.Background()
	m := twinex.KeyReplay{KeyID: "account-00000000000000000009", Sig: "ab", Until: 77}
	if err := db.Commit(ctx, &twinex.Batch{KeyReplays: []twinex.KeyReplay{m}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.KeyReplays(ctx, m.KeyID, 0); err != nil || len(got) != 1 || got[0] != m {
		t.Fatalf("KeyReplays after commit: %+v, %v", got, err)
	}
}

// TestFilesArePrivate: every database file is created readable by its
// owner only, even in a folder that others may read, and a file left with
// a wider mode (by an older binary) is narrowed at open.
func TestFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "twinex.db")
	check := func(when string) {
		t.Helper()
		entries, _ := os.ReadDir(dir)
		if len(entries) < 4 {
			t.Fatalf("%s: only %d files", when, len(entries))
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: %s has mode %#o, want 0600", when, e.Name(), perm)
			}
		}
	}
	db := open(t, path)
	ctx := context.Background()
	u := twinex.User{Email: "p@x.io"}
	if _, err := db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	check("created")
	db.Close()
	for _, f := range []string{path, sqlite.LogPath(path)} {
		os.Chmod(f, 0o644)
	}
	db = open(t, path)
	defer db.Close()
	check("reopened")
}

// TestBackupWhileServing: a backup runs on a reader, so a commit can go on
// while it is open, and the copy is a Twinex database holding what was
// committed; the log's file is copied on its own.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "twinex.db"))
	defer db.Close()
	ctx := context.Background()
	u := twinex.User{Email: "b@x.io"}
	if _, err := db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(dir, "backup.db")
	if err := db.BackupTo(ctx, to); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.CheckFile(ctx, to); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(to); info.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", info.Mode())
	}
	if err := db.BackupTo(ctx, to); err == nil {
		t.Fatal("a backup over an existing file")
	}
	to2 := filepath.Join(dir, "backup2.db")
	if err := db.BackupTo(ctx, to2); err != nil {
		t.Fatal(err)
	}
	if err := db.BackupLogTo(ctx, sqlite.LogPath(to2)); err != nil {
		t.Fatal(err)
	}
	copyDB := open(t, to2)
	defer copyDB.Close()
	if got, err := copyDB.UserByEmail(ctx, "b@x.io"); err != nil || got.ID != u.ID {
		t.Fatalf("user in the backup: %+v %v", got, err)
	}
	if _, err := os.Stat(sqlite.LogPath(to2)); err != nil {
		t.Fatalf("log copy: %v", err)
	}
}

func TestJournalContract(t *testing.T) {
	storetest.RunJournal(t, func(t *testing.T, dir string) twinex.Journal {
		j, err := sqlite.OpenJournal(filepath.Join(dir, "journal.db"))
		if err != nil {
			t.Fatal(err)
		}
		return j
	})
}
