// Package sqlite is the embedded exchange store: twinex.ExchangeStore on a
// single SQLite file in WAL mode, through the pure-Go modernc.org/sqlite
// driver.
//
// A DB keeps two connection pools on the same file: one connection for the
// single writer (the sequencer's Commit), so writes never wait on SQLite's
// lock and prepared statements stay on one connection, and a small read-only
// pool for LoadState and the history queries, which WAL lets run alongside
// the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinex/twinex"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrNewerSchema is returned by Open when the database was migrated by a
// newer Twinex than this one: running an old binary on it could lose data.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

//go:embed migrations/*.sql logmigrations/*.sql
var migrationFS embed.FS

// DSN pragmas. busy_timeout lets a reader wait out a checkpoint instead of
// failing; synchronous=FULL makes every commit durable (an fsync of the WAL),
// which Commit's contract requires. A batch dirties pages all over the
// account-keyed indexes, easily a thousand or more; with the default
// wal_autocheckpoint of 1000 pages nearly every commit would also checkpoint,
// so the writer checkpoints every 10000 pages (about 40 MB of WAL) instead.
const (
	commonPragmas = "_pragma=busy_timeout(10000)"
	writerPragmas = commonPragmas +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)" +
		"&_pragma=wal_autocheckpoint(10000)" +
		"&_txlock=immediate"
	// The projection's writer (DB.Project) commits without an fsync: what
	// it writes is durable in the journal already. In WAL mode NORMAL
	// still never corrupts the file, and SQLite syncs the log before a
	// checkpoint copies it into the database.
	projectionPragmas = commonPragmas +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)" +
		"&_pragma=wal_autocheckpoint(10000)" +
		"&_txlock=immediate"
	readerPragmas = commonPragmas + "&_pragma=query_only(1)&_pragma=cache_size(-16384)"
	// The activity log's file commits without an fsync (synchronous=NORMAL
	// in WAL mode: a power cut may lose the last records, never corrupt
	// the file); it is a log, and its records were never acknowledged to
	// anyone. Having its own writer keeps it off the exchange's commits.
	logWriterPragmas = commonPragmas +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)" +
		"&_txlock=immediate"
)

var _ twinex.ExchangeStore = (*DB)(nil)

// DB is the SQLite exchange store. Commit may be called from one goroutine at
// a time (calls are serialised); the queries are safe for concurrent use.
type DB struct {
	w *sql.DB // the single writer connection
	r *sql.DB // read-only pool
	// lw and lr are the writer and readers of the activity log's own file
	// (LogPath): the log and its usage rollup live there.
	lw, lr *sql.DB

	// p is the projection's writer connection on the main file: it
	// commits without an fsync (projectionPragmas); see Project.
	p *sql.DB

	mu sync.Mutex // serialises Commit and Project, guarding their statements and args
	wr writer     // prepared on w
	pr writer     // prepared on p
	// orders is what Commit and Project know of the orders table: its
	// largest id, so that they write an order above it as new (every column)
	// and one at or below it as a change (the columns that change).
	orders orderHigh

	path string // the database file, for backups
}

// LogPath is the file of the activity log beside the database at path
// ("twinex.db" -> "twinex-log.db").
func LogPath(path string) string {
	return strings.TrimSuffix(path, ".db") + "-log.db"
}

// Open opens the database file at path and the activity log's file beside
// it (LogPath), creating them if missing, and applies any migrations they
// lack. path's directory must exist. Open returns an error wrapping
// ErrNewerSchema if a file was migrated by a newer binary.
func Open(path string) (*DB, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		// The driver splits its DSN at '?'.
		return nil, fmt.Errorf("open sqlite: invalid path %q", path)
	}
	ctx := context.Background()
	db := &DB{path: path}
	var err error
	if db.lw, db.lr, err = openFile(ctx, LogPath(path), logWriterPragmas, "logmigrations", nil); err != nil {
		return nil, err
	}
	// The main file's migration 0010 drops the log's old tables; before it
	// runs, their records are copied to the log's file.
	before := func(ctx context.Context, w *sql.DB) error { return copyLog(ctx, w, db.lw) }
	if db.w, db.r, err = openFile(ctx, path, writerPragmas, "migrations", before); err != nil {
		db.lw.Close()
		db.lr.Close()
		return nil, err
	}
	if err := db.wr.prepare(db.w); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if db.p, err = sql.Open("sqlite", path+"?"+projectionPragmas); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	single(db.p)
	if err := db.pr.prepare(db.p); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	return db, nil
}

// openFile opens one database file's single writer and reader pool and
// applies the migrations in dir, after running before (when set) on the
// writer.
func openFile(ctx context.Context, path, pragmas, dir string, before func(context.Context, *sql.DB) error) (w, r *sql.DB, err error) {
	if err := private(path); err != nil {
		return nil, nil, fmt.Errorf("open sqlite: %w", err)
	}
	w, err = sql.Open("sqlite", path+"?"+pragmas)
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite: %w", err)
	}
	single(w)
	if before != nil {
		if err := before(ctx, w); err != nil {
			w.Close()
			return nil, nil, fmt.Errorf("open sqlite %s: %w", filepath.Base(path), err)
		}
	}
	if err := migrate(ctx, w, dir, time.Now()); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("open sqlite %s: %w", filepath.Base(path), err)
	}
	r, err = sql.Open("sqlite", path+"?"+readerPragmas)
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("open sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return w, r, nil
}

// single keeps a pool to one connection that lives as long as the pool:
// a writer, whose prepared statements stay on it.
func single(db *sql.DB) {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
}

// private makes the database file at path readable by its owner only:
// created with mode 0600 when missing, and an existing file (with its WAL
// and shared-memory files) taken to 0600 when it allows more. They hold
// password hashes, emails, identity submissions and the activity log.
// SQLite creates the WAL and shared-memory files with the database file's
// mode, so they follow.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	if runtime.GOOS == "windows" {
		return nil
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyLog copies the activity log and its usage rollup from the main
// file (where migrations 0008 and 0009 put them, before the log had a file
// of its own) into the log's file, committed there before migration 0010
// drops them from the main file. Copying again after a crash in between
// finds the same rows, which it ignores.
func copyLog(ctx context.Context, main, log *sql.DB) error {
	var n int
	if err := main.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'activity'`).Scan(&n); err != nil || n == 0 {
		return err // a new file, or one moved already
	}
	const cols = `id, time, key_id, user_id, account_id, ip, method, path, reason, status, latency`
	for last := int64(-1 << 63); ; {
		rows, err := main.QueryContext(ctx, `SELECT `+cols+` FROM activity WHERE id > ? ORDER BY id LIMIT 10000`, last)
		if err != nil {
			return fmt.Errorf("copy log: %w", err)
		}
		var batch [][]any
		for rows.Next() {
			v := make([]any, 11)
			var id, t, user, acct, status, latency int64
			var key, ip, method, path, reason string
			if err := rows.Scan(&id, &t, &key, &user, &acct, &ip, &method, &path, &reason, &status, &latency); err != nil {
				rows.Close()
				return fmt.Errorf("copy log: %w", err)
			}
			v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10] = id, t, key, user, acct, ip, method, path, reason, status, latency
			batch = append(batch, v)
			last = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("copy log: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		if err := insertAll(ctx, log, `INSERT OR IGNORE INTO activity (`+cols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`, batch); err != nil {
			return fmt.Errorf("copy log: %w", err)
		}
	}
	rows, err := main.QueryContext(ctx, `SELECT key_id, minute, requests, errors, counted FROM usage`)
	if err != nil {
		return fmt.Errorf("copy log: %w", err)
	}
	var usage [][]any
	for rows.Next() {
		var key string
		var minute, req, errs, counted int64
		if err := rows.Scan(&key, &minute, &req, &errs, &counted); err != nil {
			rows.Close()
			return fmt.Errorf("copy log: %w", err)
		}
		usage = append(usage, []any{key, minute, req, errs, counted})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("copy log: %w", err)
	}
	if err := insertAll(ctx, log, `INSERT OR IGNORE INTO usage (key_id, minute, requests, errors, counted) VALUES (?,?,?,?,?)`, usage); err != nil {
		return fmt.Errorf("copy log: %w", err)
	}
	return nil
}

// insertAll runs q once per row of args in one transaction.
func insertAll(ctx context.Context, db *sql.DB, q string, args [][]any) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, a := range args {
		if _, err := st.ExecContext(ctx, a...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the database. Commit must not be running.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.wr.close()
	db.pr.close()
	var errs []error
	for _, c := range []*sql.DB{db.r, db.p, db.w, db.lr, db.lw} {
		if c != nil {
			if err := c.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

// migration is one numbered schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// migrations returns the embedded migrations of dir ("migrations" for the
// main file, "logmigrations" for the log's) in version order. Files are
// named NNNN_what.sql; versions must be unique.
func migrations(dir string) ([]migration, error) {
	names, err := fs.Glob(migrationFS, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, dir+"/")
		num, _, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNN_what.sql", base)
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_what.sql", base)
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrate applies the migrations db lacks, each in its own transaction with
// its schema_migrations row, so a crash leaves the schema at a known version.
// now stamps applied_at (Unix seconds), which is for operators only.
func migrate(ctx context.Context, db *sql.DB, dir string, now time.Time) error {
	ms, err := migrations(dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Every migration the database lacks is applied, in version order, so
	// that one merged out of order (a lower number landing after a higher
	// one) is not skipped.
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	known := map[int64]bool{}
	for _, m := range ms {
		known[m.version] = true
	}
	for v := range applied {
		if !known[v] {
			return fmt.Errorf("migrate: %w: database has migration %d, which this binary does not know",
				ErrNewerSchema, v)
		}
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := applyMigration(ctx, db, m, now); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration, now time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, now.Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// SaveTo writes a consistent copy of the committed database to path, which
// must not exist. Commits wait while it runs.
func (db *DB) SaveTo(ctx context.Context, path string) error {
	if strings.ContainsRune(path, '?') {
		return fmt.Errorf("save sqlite: invalid path %q", path)
	}
	if _, err := db.w.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("save sqlite: %w", err)
	}
	return nil
}

// BackupTo writes a consistent copy of the database to path, which must
// not exist, while the store keeps serving: the copy is one read
// transaction (VACUUM INTO) on a connection of its own, so commits go on
// meanwhile and the copy holds exactly what was committed when it began.
// The file is created with mode 0600. BackupLogTo does the same for the
// activity log's file.
func (db *DB) BackupTo(ctx context.Context, path string) error {
	return backupFile(ctx, db.path, path)
}

// BackupLogTo writes a consistent copy of the activity log's file to path
// (see BackupTo).
func (db *DB) BackupLogTo(ctx context.Context, path string) error {
	return backupFile(ctx, LogPath(db.path), path)
}

// backupFile copies the database at from to the new file to, on a
// connection of its own: the store's readers are query-only, which VACUUM
// INTO refuses, and its writer must not wait for a copy.
func backupFile(ctx context.Context, from, to string) error {
	if to == "" || strings.ContainsRune(to, '?') {
		return fmt.Errorf("backup sqlite: invalid path %q", to)
	}
	c, err := sql.Open("sqlite", from+"?"+commonPragmas)
	if err != nil {
		return fmt.Errorf("backup sqlite: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		return fmt.Errorf("backup sqlite: %w", err)
	}
	if err := os.Chmod(to, 0o600); err != nil {
		return fmt.Errorf("backup sqlite: %w", err)
	}
	return nil
}

// CheckFile reports whether path is a Twinex database: a readable SQLite
// file, intact (quick_check), with at least one migration applied. It opens
// the file read-only and changes nothing.
func CheckFile(ctx context.Context, path string) error {
	if strings.ContainsRune(path, '?') {
		return fmt.Errorf("check sqlite: invalid path %q", path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&"+commonPragmas)
	if err != nil {
		return fmt.Errorf("check sqlite: %w", err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&ok); err != nil {
		return fmt.Errorf("check sqlite: %w", err)
	}
	if ok != "ok" {
		return fmt.Errorf("check sqlite: %s", ok)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		return fmt.Errorf("check sqlite: not a Twinex database")
	}
	return nil
}
