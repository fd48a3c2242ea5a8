package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }

// queryRows runs query on q and reads each row with scan; errors are
// wrapped with what. No rows give a nil slice. It is the one loop over rows
// (rows.Next, Scan, rows.Err, Close) that the store's list queries share.
func queryRows[T any](ctx context.Context, q *sql.DB, what string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// queryAll is queryRows for rows whose columns go straight into a T's
// fields: dest gives their addresses in column order.
func queryAll[T any](ctx context.Context, q *sql.DB, what string, dest func(*T) []any, query string, args ...any) ([]T, error) {
	return queryRows(ctx, q, what, func(r rowScanner) (T, error) {
		var x T
		err := r.Scan(dest(&x)...)
		return x, err
	}, query, args...)
}

// scanInto adapts a scanner that fills a *T to queryRows.
func scanInto[T any](scan func(rowScanner, *T) error) func(rowScanner) (T, error) {
	return func(r rowScanner) (T, error) {
		var x T
		err := scan(r, &x)
		return x, err
	}
}
