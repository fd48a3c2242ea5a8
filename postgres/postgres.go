// Package postgres keeps Twinex's users, keys, accounts, identity, the
// dashboard's sign-in state, the sandbox mailbox, alerts, plans, usage,
// fingerprints and the activity log in PostgreSQL, through pgx (pure Go, no
// cgo).
//
// It implements every store interface of the domain, twinex.ExchangeStore
// included, and Journal is the command journal as a table (twinex.Journal).
// The contract suites in storetest and mail/mailtest run against it and
// against the SQLite store alike (docs/POSTGRES.md).
//
// A DB is a pool of connections; every method is safe for concurrent use,
// also by several processes sharing one database. The tables live in the
// schema the connection's search_path names (public by default), so that one
// database can hold several installations, or one per test.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twinex/twinex"
)

// ErrNewerSchema is returned by Open when the database was migrated by a
// newer Twinex than this one: running an old binary on it could lose data.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

//go:embed migrations/*.sql
var migrationFS embed.FS

// Advisory lock namespaces (the first key of PostgreSQL's two-key advisory
// locks), so that the locks of this package never collide with each other.
const (
	lockMigrate = 7701 // held while migrating, by the whole session
	lockKeyIPs  = 7702 // held by NoteKeyIP for one key, by its transaction
)

// DB is the PostgreSQL store.
type DB struct {
	pool    *pgxpool.Pool
	poolCfg *pgxpool.Config
	cfg     *pgx.ConnConfig // for the exchange store's own connections
	// leaseP is the lease's own small pool (leasePool), so that renewing
	// the lease never waits behind the exchange's work for a connection.
	leaseOnce sync.Once
	leaseP    *pgxpool.Pool
	leaseErr  error
	x         exchange
	// fence is the fencing token every exchange and key write checks
	// first (SetFence); 0: none.
	fence int64
}

// Open connects to the database at url, a postgres:// URL or a libpq
// key=value string (a search_path parameter chooses the schema), and
// applies the migrations it lacks. It returns an error wrapping
// ErrNewerSchema if the database was migrated by a newer binary.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's error quotes the URL with the password redacted.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := migrate(ctx, cfg.ConnConfig); err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{pool: pool, poolCfg: cfg, cfg: cfg.ConnConfig}, nil
}

// Close closes the pool's connections, waiting for those in use, and the
// exchange store's.
func (db *DB) Close() error {
	db.closeExchange()
	db.pool.Close()
	if db.leaseP != nil {
		db.leaseP.Close()
	}
	return nil
}

// migration is one numbered schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Files are
// named NNNN_what.sql; versions must be unique.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
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

// migrate applies the migrations the database lacks, each in its own
// transaction with its schema_migrations row, so a crash leaves the schema
// at a known version. Servers starting together take turns: the first
// migrates while the others wait on an advisory lock (one per schema), then
// find nothing left to do. The lock is held by a connection of its own,
// which closing releases whatever happens, so no pooled connection can
// keep it. applied_at is the database's clock, for operators only.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, lockMigrate); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT      PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rows, _ := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int64]bool{}
	for _, v := range versions {
		applied[v] = true
	}
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
	// Every migration the database lacks is applied, in version order, so
	// that one merged out of order (a lower number landing after a higher
	// one) is not skipped.
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// Without arguments the text goes as one simple query, which
			// may hold several statements.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// Version returns the latest migration applied to the database.
func (db *DB) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// isConflict reports whether err is a unique or primary key violation.
func isConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// affected wraps err with what, and returns twinex.ErrNotFound when the
// statement changed no row.
func affected(what string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, twinex.ErrNotFound)
	}
	return nil
}

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// queryAll runs query and reads each row into a new T whose fields dest
// gives in column order; errors are wrapped with what. No rows give a nil
// slice. It is the one loop over rows that the list queries share.
func queryAll[T any](ctx context.Context, q querier, what string, dest func(*T) []any, query string, args ...any) ([]T, error) {
	return queryRows(ctx, q, what, func(r pgx.Row) (T, error) {
		var x T
		err := r.Scan(dest(&x)...)
		return x, err
	}, query, args...)
}

// queryRows is queryAll for rows that need more than a Scan.
func queryRows[T any](ctx context.Context, q querier, what string, scan func(pgx.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// queryOne runs a query of one row into dest; no row is twinex.ErrNotFound.
func queryOne(ctx context.Context, q querier, what string, dest []any, query string, args ...any) error {
	err := q.QueryRow(ctx, query, args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, twinex.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// update runs fn in a transaction, committing when it returns nil and
// rolling back otherwise.
func (db *DB) update(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// MaxLimit caps the limits of list queries, as in the SQLite store.
const MaxLimit = 10000

// limit returns n, def if unset, capped at MaxLimit.
func limit(n, def int) int {
	if n <= 0 {
		return def
	}
	return min(n, MaxLimit)
}

// where accumulates the conditions of a query written with ? for its
// arguments; sql numbers them ($1, $2, ...) as PostgreSQL wants.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// sql returns head, " WHERE " and the conditions, then tail, with every ?
// numbered in order, and the arguments followed by more.
func (w *where) sql(head, tail string, more ...any) (string, []any) {
	q := head
	if len(w.conds) > 0 {
		q += " WHERE " + strings.Join(w.conds, " AND ")
	}
	q += tail
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String(), append(slices.Clone(w.args), more...)
}
