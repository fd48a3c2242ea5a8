package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/twinex/twinex"
)

// MFA implements twinex.DashboardStore: a user's second factor, or
// twinex.ErrNotFound.
func (db *DB) MFA(ctx context.Context, userID int64) (twinex.MFA, error) {
	m := twinex.MFA{UserID: userID}
	err := queryOne(ctx, db.pool, "mfa", []any{&m.Secret, &m.Enabled, &m.LastStep, &m.Recovery},
		`SELECT secret, enabled, last_step, recovery FROM mfa WHERE user_id = $1`, userID)
	return m, err
}

// StartMFA implements twinex.DashboardStore: it stores an unconfirmed
// secret, replacing an earlier unconfirmed one; twinex.ErrConflict if the
// user's second factor is already enabled.
func (db *DB) StartMFA(ctx context.Context, userID int64, secret []byte) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO mfa (user_id, secret, enabled, last_step, recovery) VALUES ($1, $2, 0, 0, '')
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0, recovery = '' WHERE mfa.enabled = 0`,
		userID, nonNil(secret))
	if err := affected("start mfa", tag, err); errors.Is(err, twinex.ErrNotFound) {
		return fmt.Errorf("start mfa: %w", twinex.ErrConflict)
	} else if err != nil {
		return err
	}
	return nil
}

// EnableMFA implements twinex.DashboardStore: it confirms an unconfirmed
// secret with the step of the code that confirmed it and the recovery code
// hashes; twinex.ErrNotFound if there is no unconfirmed secret.
func (db *DB) EnableMFA(ctx context.Context, userID, at, step int64, recovery string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE mfa SET enabled = $1, last_step = $2, recovery = $3 WHERE user_id = $4 AND enabled = 0`,
		at, step, recovery, userID)
	return affected("enable mfa", tag, err)
}

// AdvanceMFA implements twinex.DashboardStore: it records the step of an
// accepted code if it is later than the stored one, and reports whether it
// was. Of two requests with the same code, the second waits for the
// first's row lock, then finds the step taken.
func (db *DB) AdvanceMFA(ctx context.Context, userID, step int64) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE mfa SET last_step = $1 WHERE user_id = $2 AND last_step < $1`, step, userID)
	if err != nil {
		return false, fmt.Errorf("advance mfa: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// SetMFARecovery implements twinex.DashboardStore: it replaces the
// recovery code hashes if they are still old, and reports whether they
// were, so that a recovery code is used once even by concurrent requests.
func (db *DB) SetMFARecovery(ctx context.Context, userID int64, old, recovery string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE mfa SET recovery = $1 WHERE user_id = $2 AND recovery = $3 AND enabled <> 0`, recovery, userID, old)
	if err != nil {
		return false, fmt.Errorf("set mfa recovery: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// DeleteMFA implements twinex.DashboardStore; no error if there is none.
func (db *DB) DeleteMFA(ctx context.Context, userID int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM mfa WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete mfa: %w", err)
	}
	return nil
}
