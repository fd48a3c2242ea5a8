package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// notCopied are the tables CopyTables leaves alone: the schema's version,
// and the journal and lease, which belong to the servers running on this
// database (an installation is copied after a clean close, when its
// journal is empty).
var notCopied = []string{"schema_migrations", "journal", "journal_id", "journal_cut", "leader"}

// pgColumn is a column of a table here, with what its values need.
type pgColumn struct {
	name     string
	dataType string // information_schema's data_type
	notNull  bool
}

// ErrNotEmpty is returned by CopyTables when a table it would fill holds
// rows already.
var ErrNotEmpty = errors.New("the PostgreSQL schema is not empty")

// CopyTables copies every table of this store (bar the journal's and the
// lease) from the SQLite files srcs (the database and the activity log's;
// the tables of both stores have the same names and columns, which
// TestSchemaMatchesSQLite keeps so), in one transaction, then moves the
// id sequences past the largest ids copied. Values are converted where the
// types differ: SQLite's 0/1 flags to booleans, a key's comma-joined
// allowlist to an array, wide decimal text to NUMERIC. Every table must be
// empty (ErrNotEmpty otherwise). It returns the rows copied per table.
func (db *DB) CopyTables(ctx context.Context, srcs ...*sql.DB) (map[string]int64, error) {
	tables, err := db.columns(ctx)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, name := range sortedKeys(tables) {
			var n int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{name}.Sanitize()).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("%w: table %s has %d rows", ErrNotEmpty, name, n)
			}
			src, err := holder(ctx, srcs, name)
			if err != nil {
				return err
			}
			if src == nil {
				continue // a table only this store has
			}
			if counts[name], err = copyTable(ctx, tx, src, name, tables[name]); err != nil {
				return fmt.Errorf("copy %s: %w", name, err)
			}
		}
		return resetSequences(ctx, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("copy tables: %w", err)
	}
	return counts, nil
}

// CountRows counts the rows of every table CopyTables fills.
func (db *DB) CountRows(ctx context.Context) (map[string]int64, error) {
	tables, err := db.columns(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for name := range tables {
		var n int64
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{name}.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
		out[name] = n
	}
	return out, nil
}

// columns lists the tables of the schema (bar notCopied) and their columns.
func (db *DB) columns(ctx context.Context) (map[string][]pgColumn, error) {
	rows, err := db.pool.Query(ctx, `SELECT table_name, column_name, data_type, is_nullable = 'NO' FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("list columns: %w", err)
	}
	defer rows.Close()
	out := map[string][]pgColumn{}
	for rows.Next() {
		var table string
		var c pgColumn
		if err := rows.Scan(&table, &c.name, &c.dataType, &c.notNull); err != nil {
			return nil, fmt.Errorf("list columns: %w", err)
		}
		if !slices.Contains(notCopied, table) {
			out[table] = append(out[table], c)
		}
	}
	return out, rows.Err()
}

// holder returns the source that has table, or nil.
func holder(ctx context.Context, srcs []*sql.DB, table string) (*sql.DB, error) {
	for _, s := range srcs {
		var n int
		if err := s.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return s, nil
		}
	}
	return nil, nil
}

// copyTable copies one table in batches of 1,000 rows (COPY cannot take
// the conversions the casts do).
func copyTable(ctx context.Context, tx pgx.Tx, src *sql.DB, table string, cols []pgColumn) (int64, error) {
	names := make([]string, len(cols))
	params := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgx.Identifier{c.name}.Sanitize()
		params[i] = fmt.Sprintf("$%d", i+1)
		if c.dataType == "numeric" {
			params[i] += "::numeric"
		}
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM "`+table+`"`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	insert := `INSERT INTO ` + pgx.Identifier{table}.Sanitize() + ` (` + strings.Join(names, ", ") + `) VALUES (` + strings.Join(params, ", ") + `)`
	var n int64
	var b pgx.Batch
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		err := tx.SendBatch(ctx, &b).Close()
		b = pgx.Batch{}
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			if b, ok := vals[i].([]byte); c.notNull && c.dataType == "bytea" && (vals[i] == nil || ok && b == nil) {
				vals[i] = []byte{} // SQLite gives an empty blob as NULL; pgx sends a nil slice as NULL
			}
			if vals[i], err = convert(vals[i], c.dataType); err != nil {
				return n, fmt.Errorf("column %s: %w", c.name, err)
			}
		}
		b.Queue(insert, vals...)
		n++
		if b.Len() == 1000 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// convert turns a value SQLite gave into what the PostgreSQL column takes.
func convert(v any, dataType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch dataType {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case "ARRAY":
		s, ok := v.(string)
		if b, isBytes := v.([]byte); isBytes {
			s, ok = string(b), true
		}
		if ok {
			if s == "" {
				return []string{}, nil
			}
			return strings.Split(s, ","), nil
		}
	case "numeric":
		switch x := v.(type) {
		case int64:
			return fmt.Sprint(x), nil
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case "text":
		if b, ok := v.([]byte); ok {
			return string(b), nil
		}
		return v, nil
	case "bytea":
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
		return v, nil
	default:
		return v, nil
	}
	return nil, fmt.Errorf("cannot convert %T to %s", v, dataType)
}

// resetSequences moves every sequence of the schema (the identity columns'
// and accounts_id_seq, which accounts.id owns) past the largest id copied, so that the next row
// gets a new id.
func resetSequences(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)
		FROM information_schema.columns WHERE table_schema = current_schema()
		AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL`)
	if err != nil {
		return err
	}
	type seq struct{ table, column, name string }
	seqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (seq, error) {
		var s seq
		return s, r.Scan(&s.table, &s.column, &s.name)
	})
	if err != nil {
		return err
	}
	for _, s := range seqs {
		if _, err := tx.Exec(ctx, `SELECT setval($1, m) FROM (SELECT max(`+pgx.Identifier{s.column}.Sanitize()+`) AS m FROM `+
			pgx.Identifier{s.table}.Sanitize()+`) x WHERE m IS NOT NULL`, s.name); err != nil {
			return fmt.Errorf("sequence %s: %w", s.name, err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
