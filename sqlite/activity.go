package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/twinex/twinex"
)

// AddActivity appends activity records in one transaction of the log's
// own file (LogPath), with their usage rollup.
func (db *DB) AddActivity(ctx context.Context, records []twinex.Activity) error {
	if len(records) == 0 {
		return nil
	}
	tx, err := db.lw.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add activity: %w", err)
	}
	defer tx.Rollback()
	// Rows go in as few statements as the sizes in activityChunks allow
	// (64, then 8, then 1 row each): a batch holds up to thousands of
	// records, and each statement's execution costs far more than binding
	// one more row.
	var stmts [len(activityChunks)]*sql.Stmt
	args := make([]any, 0, activityChunks[0]*activityColumns)
	for i := 0; i < len(records); {
		k := 0
		for activityChunks[k] > len(records)-i {
			k++
		}
		n := activityChunks[k]
		if stmts[k] == nil {
			if stmts[k], err = tx.PrepareContext(ctx, activityInsert(n)); err != nil {
				return fmt.Errorf("add activity: %w", err)
			}
			defer stmts[k].Close()
		}
		args = args[:0]
		for _, a := range records[i : i+n] {
			args = append(args, a.Time, a.KeyID, a.UserID, a.AccountID, a.IP, a.Method, a.Path, a.Reason, a.Status, a.Latency)
		}
		if _, err := stmts[k].ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("add activity: %w", err)
		}
		i += n
	}
	type slot struct {
		key    string
		minute int64
	}
	usage := map[slot]*twinex.UsagePoint{}
	for _, a := range records {
		if a.UserID == 0 {
			continue // unknown keys have no owner to chart them for
		}
		sl := slot{a.KeyID, unixMinute(a.Time)}
		u := usage[sl]
		if u == nil {
			u = &twinex.UsagePoint{Minute: sl.minute}
			usage[sl] = u
		}
		u.Requests++
		if a.Reason != "" {
			u.Errors++
		}
		if a.Counted {
			u.Counted++
		}
	}
	for sl, u := range usage {
		if _, err := tx.ExecContext(ctx, `INSERT INTO usage (key_id, minute, requests, errors, counted) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key_id, minute) DO UPDATE SET requests = requests + excluded.requests,
			errors = errors + excluded.errors, counted = counted + excluded.counted`,
			sl.key, sl.minute, u.Requests, u.Errors, u.Counted); err != nil {
			return fmt.Errorf("add activity: usage: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add activity: %w", err)
	}
	return nil
}

// activityChunks are the numbers of activity rows one INSERT writes,
// largest first and ending in 1; activityColumns is the columns of each
// (64*10 parameters stays far below SQLite's limit of 32,766).
var activityChunks = [...]int{64, 8, 1}

const activityColumns = 10

// activityInsert is the INSERT of n activity rows. OR FAIL spares SQLite
// a statement journal (a copy of every page a multi-row statement touches,
// to undo just that statement if it fails part-way): a failure fails the
// whole transaction, which AddActivity then rolls back.
func activityInsert(n int) string {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	var b strings.Builder
	b.WriteString("INSERT OR FAIL INTO activity (time, key_id, user_id, account_id, ip, method, path, reason, status, latency) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// Activity returns the records f selects, newest first.
func (db *DB) Activity(ctx context.Context, f twinex.ActivityFilter) ([]twinex.Activity, error) {
	var where []string
	var args []any
	if f.UnknownKeys {
		where = append(where, "user_id = 0")
	} else {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	if f.KeyID != "" {
		where, args = append(where, "key_id = ?"), append(args, f.KeyID)
	}
	if f.AccountID != 0 {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.IP != "" {
		where, args = append(where, "ip = ?"), append(args, f.IP)
	}
	switch f.Outcome {
	case "":
	case "ok":
		where = append(where, "reason = ''")
	case "error":
		where = append(where, "reason != ''")
	default:
		where, args = append(where, "reason = ?"), append(args, f.Outcome)
	}
	if f.Since != 0 {
		where, args = append(where, "time >= ?"), append(args, f.Since)
	}
	if f.Before != 0 {
		if f.BeforeID != 0 {
			where, args = append(where, "(time < ? OR (time = ? AND id < ?))"), append(args, f.Before, f.Before, f.BeforeID)
		} else {
			where, args = append(where, "time < ?"), append(args, f.Before)
		}
	}
	limit := f.Limit
	if limit <= 0 || limit > 100000 {
		limit = 100000
	}
	args = append(args, limit)
	return queryAll(ctx, db.lr, "activity", func(a *twinex.Activity) []any {
		return []any{&a.ID, &a.Time, &a.KeyID, &a.UserID, &a.AccountID, &a.IP, &a.Method, &a.Path, &a.Reason, &a.Status, &a.Latency}
	}, `SELECT id, time, key_id, user_id, account_id, ip, method, path, reason, status, latency FROM activity
		WHERE `+strings.Join(where, " AND ")+` ORDER BY time DESC, id DESC LIMIT ?`, args...)
}

// unixMinute is the Unix minute of a Unix ns time (floored, also before
// 1970).
func unixMinute(ns int64) int64 {
	m := ns / 60e9
	if ns < 0 && ns%60e9 != 0 {
		m--
	}
	return m
}

// PruneActivity deletes the records older than before. The usage rollup is
// pruned on its own (PruneUsage): charts and quotas need 30 days of it even
// when the log is kept for less.
func (db *DB) PruneActivity(ctx context.Context, before int64) (int64, error) {
	res, err := db.lw.ExecContext(ctx, `DELETE FROM activity WHERE time < ?`, before)
	if err != nil {
		return 0, fmt.Errorf("prune activity: %w", err)
	}
	return res.RowsAffected()
}
