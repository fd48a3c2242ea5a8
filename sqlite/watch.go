package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/twinex/twinex"
)

// Usage implements twinex.WatchStore.
func (db *DB) Usage(ctx context.Context, keyID string, from, to int64) ([]twinex.UsagePoint, error) {
	return queryAll(ctx, db.lr, "usage", func(u *twinex.UsagePoint) []any { return []any{&u.Minute, &u.Requests, &u.Errors, &u.Counted} },
		`SELECT minute, requests, errors, counted FROM usage
		WHERE key_id = ? AND minute >= ? AND minute < ? ORDER BY minute`, keyID, from, to)
}

// CountedSince implements twinex.WatchStore.
func (db *DB) CountedSince(ctx context.Context, minute int64) (map[string]int64, error) {
	rows, err := db.lr.QueryContext(ctx, `SELECT key_id, SUM(counted) FROM usage WHERE minute >= ?
		GROUP BY key_id HAVING SUM(counted) > 0`, minute)
	if err != nil {
		return nil, fmt.Errorf("counted since: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("counted since: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counted since: %w", err)
	}
	return out, nil
}

// PruneUsage implements twinex.WatchStore.
func (db *DB) PruneUsage(ctx context.Context, minute int64) error {
	if _, err := db.lw.ExecContext(ctx, `DELETE FROM usage WHERE minute < ?`, minute); err != nil {
		return fmt.Errorf("prune usage: %w", err)
	}
	return nil
}

// NoteKeyIP implements twinex.WatchStore.
func (db *DB) NoteKeyIP(ctx context.Context, keyID, ip string, t int64) (isNew, seenBefore bool, err error) {
	err = db.update(ctx, func(tx *sql.Tx) error {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM key_ips WHERE key_id = ?`, keyID).Scan(&n); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO key_ips (key_id, ip, first_seen, last_seen) VALUES (?, ?, ?, ?)
			ON CONFLICT (key_id, ip) DO NOTHING`, keyID, ip, t, t)
		if err != nil {
			return err
		}
		added, err := res.RowsAffected()
		if err != nil {
			return err
		}
		isNew = added == 1
		seenBefore = n > 0
		if !isNew {
			_, err = tx.ExecContext(ctx, `UPDATE key_ips SET last_seen = MAX(last_seen, ?) WHERE key_id = ? AND ip = ?`, t, keyID, ip)
		}
		return err
	})
	if err != nil {
		return false, false, fmt.Errorf("note key ip: %w", err)
	}
	return isNew, seenBefore, nil
}

// RaiseAlert implements twinex.WatchStore.
func (db *DB) RaiseAlert(ctx context.Context, a *twinex.Alert) (bool, error) {
	res, err := db.w.ExecContext(ctx, `INSERT INTO alerts (user_id, key_id, kind, dedupe, ip, message, created, dismissed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, dedupe) DO NOTHING`,
		a.UserID, a.KeyID, string(a.Kind), a.Dedupe, a.IP, a.Message, a.Created, a.Dismissed)
	if err != nil {
		return false, fmt.Errorf("raise alert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	a.ID, err = res.LastInsertId()
	if err != nil {
		return false, fmt.Errorf("raise alert: %w", err)
	}
	return true, nil
}

// Alerts implements twinex.WatchStore.
func (db *DB) Alerts(ctx context.Context, userID int64, all bool, limit int) ([]twinex.Alert, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := `SELECT ` + alertCols + ` FROM alerts WHERE user_id = ?`
	if !all {
		q += ` AND dismissed = 0`
	}
	return queryRows(ctx, db.r, "alerts", scanAlert, q+` ORDER BY created DESC, id DESC LIMIT ?`, userID, limit)
}

// Alert implements twinex.WatchStore.
func (db *DB) Alert(ctx context.Context, userID, id int64) (twinex.Alert, error) {
	a, err := scanAlert(db.r.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE user_id = ? AND id = ?`, userID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("alert: %w", twinex.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("alert: %w", err)
	}
	return a, nil
}

const alertCols = `id, user_id, key_id, kind, dedupe, ip, message, created, dismissed`

func scanAlert(s rowScanner) (twinex.Alert, error) {
	var a twinex.Alert
	var kind string
	err := s.Scan(&a.ID, &a.UserID, &a.KeyID, &kind, &a.Dedupe, &a.IP, &a.Message, &a.Created, &a.Dismissed)
	a.Kind = twinex.AlertKind(kind)
	return a, err
}

// OpenAlerts implements twinex.WatchStore.
func (db *DB) OpenAlerts(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE user_id = ? AND dismissed = 0`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("open alerts: %w", err)
	}
	return n, nil
}

// PruneWatch implements twinex.WatchStore.
func (db *DB) PruneWatch(ctx context.Context, t int64) error {
	return db.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE dismissed != 0 AND dismissed < ?`, t); err != nil {
			return fmt.Errorf("prune alerts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM key_ips WHERE key_id IN
			(SELECT id FROM api_keys WHERE revoked != 0 AND revoked < ?)`, t); err != nil {
			return fmt.Errorf("prune key addresses: %w", err)
		}
		return nil
	})
}

// DismissAlerts implements twinex.WatchStore.
func (db *DB) DismissAlerts(ctx context.Context, userID, id int64, keyID string, t int64) error {
	var err error
	if id != 0 {
		_, err = db.w.ExecContext(ctx, `UPDATE alerts SET dismissed = ? WHERE user_id = ? AND id = ? AND dismissed = 0`, t, userID, id)
	} else {
		_, err = db.w.ExecContext(ctx, `UPDATE alerts SET dismissed = ? WHERE user_id = ? AND key_id = ? AND dismissed = 0`, t, userID, keyID)
	}
	if err != nil {
		return fmt.Errorf("dismiss alerts: %w", err)
	}
	return nil
}

// UserPlan implements twinex.WatchStore.
func (db *DB) UserPlan(ctx context.Context, userID int64) (string, error) {
	var plan string
	err := db.r.QueryRowContext(ctx, `SELECT plan FROM user_plans WHERE user_id = ?`, userID).Scan(&plan)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("user plan: %w", err)
	}
	return plan, nil
}

// SetUserPlan implements twinex.WatchStore.
func (db *DB) SetUserPlan(ctx context.Context, userID int64, plan string) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO user_plans (user_id, plan) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET plan = excluded.plan`, userID, plan); err != nil {
		return fmt.Errorf("set user plan: %w", err)
	}
	return nil
}

// ActiveKeys implements twinex.WatchStore.
func (db *DB) ActiveKeys(ctx context.Context) ([]twinex.APIKey, error) {
	return db.queryKeys(ctx, "active keys", `SELECT `+keyCols+` FROM api_keys WHERE revoked = 0 ORDER BY created, id`)
}

// Unfingerprinted implements twinex.WatchStore.
func (db *DB) Unfingerprinted(ctx context.Context) ([]twinex.APIKey, error) {
	return db.queryKeys(ctx, "unfingerprinted keys", `SELECT `+keyCols+` FROM api_keys
		WHERE revoked = 0 AND NOT EXISTS (SELECT 1 FROM key_fingerprints f WHERE f.key_id = api_keys.id) ORDER BY created, id`)
}

func (db *DB) queryKeys(ctx context.Context, what, q string, args ...any) ([]twinex.APIKey, error) {
	return queryRows(ctx, db.r, what, scanInto(scanKey), q, args...)
}

// AddFingerprints implements twinex.WatchStore.
func (db *DB) AddFingerprints(ctx context.Context, keyID string, fps ...[]byte) error {
	return db.update(ctx, func(tx *sql.Tx) error {
		for _, fp := range fps {
			if _, err := tx.ExecContext(ctx, `INSERT INTO key_fingerprints (fp, key_id) VALUES (?, ?) ON CONFLICT (fp) DO NOTHING`, fp, keyID); err != nil {
				return fmt.Errorf("add fingerprints: %w", err)
			}
		}
		return nil
	})
}

// KeyByFingerprint implements twinex.WatchStore.
func (db *DB) KeyByFingerprint(ctx context.Context, fp []byte) (string, error) {
	var id string
	err := db.r.QueryRowContext(ctx, `SELECT key_id FROM key_fingerprints WHERE fp = ?`, fp).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("key by fingerprint: %w", twinex.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("key by fingerprint: %w", err)
	}
	return id, nil
}

var _ twinex.WatchStore = (*DB)(nil)

// update runs fn in a write transaction, committing when it returns nil.
func (db *DB) update(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
