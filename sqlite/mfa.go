package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/twinex/twinex"
)

// MFA is a user's TOTP second factor (migration 0007).
type MFA = twinex.MFA

// MFA returns a user's second factor, or twinex.ErrNotFound.
func (db *DB) MFA(ctx context.Context, userID int64) (MFA, error) {
	m := MFA{UserID: userID}
	err := db.r.QueryRowContext(ctx, `SELECT secret, enabled, last_step, recovery FROM mfa WHERE user_id = ?`, userID).
		Scan(&m.Secret, &m.Enabled, &m.LastStep, &m.Recovery)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("mfa: %w", twinex.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("mfa: %w", err)
	}
	return m, nil
}

// StartMFA stores an unconfirmed secret for a user, replacing an earlier
// unconfirmed one; twinex.ErrConflict if the user's second factor is
// already enabled.
func (db *DB) StartMFA(ctx context.Context, userID int64, secret []byte) error {
	res, err := db.w.ExecContext(ctx, `INSERT INTO mfa (user_id, secret, enabled, last_step, recovery) VALUES (?, ?, 0, 0, '')
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0, recovery = '' WHERE mfa.enabled = 0`, userID, secret)
	if err := affected("start mfa", res, err); errors.Is(err, twinex.ErrNotFound) {
		return fmt.Errorf("start mfa: %w", twinex.ErrConflict)
	} else if err != nil {
		return err
	}
	return nil
}

// EnableMFA confirms an unconfirmed secret with the step of the code that
// confirmed it and the recovery code hashes; twinex.ErrNotFound if there
// is no unconfirmed secret.
func (db *DB) EnableMFA(ctx context.Context, userID, at, step int64, recovery string) error {
	res, err := db.w.ExecContext(ctx, `UPDATE mfa SET enabled = ?, last_step = ?, recovery = ? WHERE user_id = ? AND enabled = 0`,
		at, step, recovery, userID)
	return affected("enable mfa", res, err)
}

// AdvanceMFA records the step of an accepted code if it is later than the
// stored one, and reports whether it was: false means the code (or a later
// one) was already used, by a concurrent request perhaps.
func (db *DB) AdvanceMFA(ctx context.Context, userID, step int64) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE mfa SET last_step = ? WHERE user_id = ? AND last_step < ?`, step, userID, step)
	if err := affected("advance mfa", res, err); errors.Is(err, twinex.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// SetMFARecovery replaces the recovery code hashes if they are still old,
// and reports whether they were: a recovery code is used once even by
// concurrent requests.
func (db *DB) SetMFARecovery(ctx context.Context, userID int64, old, recovery string) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE mfa SET recovery = ? WHERE user_id = ? AND recovery = ? AND enabled != 0`, recovery, userID, old)
	if err := affected("set mfa recovery", res, err); errors.Is(err, twinex.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// DeleteMFA removes a user's second factor; no error if there is none.
func (db *DB) DeleteMFA(ctx context.Context, userID int64) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM mfa WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete mfa: %w", err)
	}
	return nil
}
