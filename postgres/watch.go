package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex"
)

var _ twinex.WatchStore = (*DB)(nil)

// Usage implements twinex.WatchStore.
func (db *DB) Usage(ctx context.Context, keyID string, from, to int64) ([]twinex.UsagePoint, error) {
	return queryAll(ctx, db.pool, "usage", func(u *twinex.UsagePoint) []any { return []any{&u.Minute, &u.Requests, &u.Errors, &u.Counted} },
		`SELECT minute, requests, errors, counted FROM usage
		WHERE key_id = $1 AND minute >= $2 AND minute < $3 ORDER BY minute`, keyID, from, to)
}

// CountedSince implements twinex.WatchStore.
func (db *DB) CountedSince(ctx context.Context, minute int64) (map[string]int64, error) {
	type row struct {
		id string
		n  int64
	}
	rows, err := queryAll(ctx, db.pool, "counted since", func(r *row) []any { return []any{&r.id, &r.n} },
		`SELECT key_id, SUM(counted)::bigint FROM usage WHERE minute >= $1
		GROUP BY key_id HAVING SUM(counted) > 0`, minute)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.id] = r.n
	}
	return out, nil
}

// PruneUsage implements twinex.WatchStore.
func (db *DB) PruneUsage(ctx context.Context, minute int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM usage WHERE minute < $1`, minute); err != nil {
		return fmt.Errorf("prune usage: %w", err)
	}
	return nil
}

// NoteKeyIP implements twinex.WatchStore. Its transaction holds an
// advisory lock on the key, so that of two requests from two new addresses
// at once only the first is told the key was never used before.
func (db *DB) NoteKeyIP(ctx context.Context, keyID, ip string, t int64) (isNew, seenBefore bool, err error) {
	err = db.update(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockKeyIPs, keyID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM key_ips WHERE key_id = $1)`, keyID).Scan(&seenBefore); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO key_ips (key_id, ip, first_seen, last_seen) VALUES ($1, $2, $3, $3)
			ON CONFLICT (key_id, ip) DO NOTHING`, keyID, ip, t)
		if err != nil {
			return err
		}
		if isNew = tag.RowsAffected() == 1; !isNew {
			_, err = tx.Exec(ctx, `UPDATE key_ips SET last_seen = GREATEST(last_seen, $1) WHERE key_id = $2 AND ip = $3`, t, keyID, ip)
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
	err := db.pool.QueryRow(ctx, `INSERT INTO alerts (user_id, key_id, kind, dedupe, ip, message, created, dismissed)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, dedupe) DO NOTHING RETURNING id`,
		a.UserID, a.KeyID, string(a.Kind), a.Dedupe, a.IP, a.Message, a.Created, a.Dismissed).Scan(&a.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("raise alert: %w", err)
	}
	return true, nil
}

const alertCols = `id, user_id, key_id, kind, dedupe, ip, message, created, dismissed`

func scanAlert(r pgx.Row) (twinex.Alert, error) {
	var a twinex.Alert
	var kind string
	err := r.Scan(&a.ID, &a.UserID, &a.KeyID, &kind, &a.Dedupe, &a.IP, &a.Message, &a.Created, &a.Dismissed)
	a.Kind = twinex.AlertKind(kind)
	return a, err
}

// Alerts implements twinex.WatchStore.
func (db *DB) Alerts(ctx context.Context, userID int64, all bool, limit int) ([]twinex.Alert, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := `SELECT ` + alertCols + ` FROM alerts WHERE user_id = $1`
	if !all {
		q += ` AND dismissed = 0`
	}
	return queryRows(ctx, db.pool, "alerts", scanAlert, q+` ORDER BY created DESC, id DESC LIMIT $2`, userID, limit)
}

// Alert implements twinex.WatchStore.
func (db *DB) Alert(ctx context.Context, userID, id int64) (twinex.Alert, error) {
	as, err := queryRows(ctx, db.pool, "alert", scanAlert, `SELECT `+alertCols+` FROM alerts WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return twinex.Alert{}, err
	}
	if len(as) == 0 {
		return twinex.Alert{}, fmt.Errorf("alert: %w", twinex.ErrNotFound)
	}
	return as[0], nil
}

// OpenAlerts implements twinex.WatchStore.
func (db *DB) OpenAlerts(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM alerts WHERE user_id = $1 AND dismissed = 0`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("open alerts: %w", err)
	}
	return n, nil
}

// DismissAlerts implements twinex.WatchStore.
func (db *DB) DismissAlerts(ctx context.Context, userID, id int64, keyID string, t int64) error {
	var err error
	if id != 0 {
		_, err = db.pool.Exec(ctx, `UPDATE alerts SET dismissed = $1 WHERE user_id = $2 AND id = $3 AND dismissed = 0`, t, userID, id)
	} else {
		_, err = db.pool.Exec(ctx, `UPDATE alerts SET dismissed = $1 WHERE user_id = $2 AND key_id = $3 AND dismissed = 0`, t, userID, keyID)
	}
	if err != nil {
		return fmt.Errorf("dismiss alerts: %w", err)
	}
	return nil
}

// PruneWatch implements twinex.WatchStore.
func (db *DB) PruneWatch(ctx context.Context, t int64) error {
	return db.update(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM alerts WHERE dismissed <> 0 AND dismissed < $1`, t); err != nil {
			return fmt.Errorf("prune alerts: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM key_ips WHERE key_id IN
			(SELECT id FROM api_keys WHERE revoked <> 0 AND revoked < $1)`, t); err != nil {
			return fmt.Errorf("prune key addresses: %w", err)
		}
		return nil
	})
}

// UserPlan implements twinex.WatchStore.
func (db *DB) UserPlan(ctx context.Context, userID int64) (string, error) {
	var plan string
	err := db.pool.QueryRow(ctx, `SELECT plan FROM user_plans WHERE user_id = $1`, userID).Scan(&plan)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("user plan: %w", err)
	}
	return plan, nil
}

// SetUserPlan implements twinex.WatchStore.
func (db *DB) SetUserPlan(ctx context.Context, userID int64, plan string) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO user_plans (user_id, plan) VALUES ($1, $2)
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

// AddFingerprints implements twinex.WatchStore, in one statement.
func (db *DB) AddFingerprints(ctx context.Context, keyID string, fps ...[]byte) error {
	if len(fps) == 0 {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO key_fingerprints (fp, key_id) SELECT fp, $2 FROM unnest($1::bytea[]) AS fp
		ON CONFLICT (fp) DO NOTHING`, fps, keyID); err != nil {
		return fmt.Errorf("add fingerprints: %w", err)
	}
	return nil
}

// KeyByFingerprint implements twinex.WatchStore.
func (db *DB) KeyByFingerprint(ctx context.Context, fp []byte) (string, error) {
	var id string
	err := queryOne(ctx, db.pool, "key by fingerprint", []any{&id}, `SELECT key_id FROM key_fingerprints WHERE fp = $1`, fp)
	return id, err
}
