package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/twinex/twinex"
)

var _ twinex.IdentityStore = (*DB)(nil)

const identityCols = `user_id, legal_name, birth_date, country, address, submitted, status, reason, reviewed`

func scanIdentity(s rowScanner, x *twinex.IdentitySubmission) error {
	var status string
	err := s.Scan(&x.UserID, &x.LegalName, &x.BirthDate, &x.Country, &x.Address, &x.Submitted, &status, &x.Reason, &x.Reviewed)
	x.Status = twinex.IdentityStatus(status)
	return err
}

// SubmitIdentity implements twinex.IdentityStore.
func (db *DB) SubmitIdentity(ctx context.Context, s twinex.IdentitySubmission) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("submit identity: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET identity = ? WHERE id = ?`, string(twinex.IdentityPending), s.UserID)
	if err := affected("submit identity", res, err); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO identity_submissions (`+identityCols+`) VALUES (?,?,?,?,?,?,?,?,?)
		ON CONFLICT (user_id) DO UPDATE SET legal_name = excluded.legal_name, birth_date = excluded.birth_date,
		country = excluded.country, address = excluded.address, submitted = excluded.submitted,
		status = excluded.status, reason = excluded.reason, reviewed = excluded.reviewed`,
		s.UserID, s.LegalName, s.BirthDate, s.Country, s.Address, s.Submitted, string(twinex.IdentityPending), "", 0); err != nil {
		return fmt.Errorf("submit identity: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("submit identity: %w", err)
	}
	return nil
}

// Identity implements twinex.IdentityStore.
func (db *DB) Identity(ctx context.Context, userID int64) (twinex.IdentitySubmission, error) {
	var x twinex.IdentitySubmission
	err := scanIdentity(db.r.QueryRowContext(ctx, `SELECT `+identityCols+` FROM identity_submissions WHERE user_id = ?`, userID), &x)
	if errors.Is(err, sql.ErrNoRows) {
		return x, fmt.Errorf("identity: %w", twinex.ErrNotFound)
	}
	if err != nil {
		return x, fmt.Errorf("identity: %w", err)
	}
	return x, nil
}

// ReviewIdentity implements twinex.IdentityStore.
func (db *DB) ReviewIdentity(ctx context.Context, userID int64, status twinex.IdentityStatus, reason string, now int64) error {
	if status != twinex.IdentityVerified && status != twinex.IdentityRejected {
		return fmt.Errorf("review identity: status %q is not a decision", status)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("review identity: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET identity = ? WHERE id = ?`, string(status), userID)
	if err := affected("review identity", res, err); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE identity_submissions SET status = ?, reason = ?, reviewed = ? WHERE user_id = ?`,
		string(status), reason, now, userID); err != nil {
		return fmt.Errorf("review identity: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("review identity: %w", err)
	}
	return nil
}

// DecideSubmission implements twinex.IdentityStore.
func (db *DB) DecideSubmission(ctx context.Context, userID, submitted int64, status twinex.IdentityStatus, reason string, now int64) error {
	if status != twinex.IdentityVerified && status != twinex.IdentityRejected {
		return fmt.Errorf("decide submission: status %q is not a decision", status)
	}
	return db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE identity_submissions SET status = ?, reason = ?, reviewed = ?
			WHERE user_id = ? AND submitted = ? AND status = 'pending'`, string(status), reason, now, userID, submitted)
		if err != nil {
			return fmt.Errorf("decide submission: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = twinex.ErrConflict
			}
			return fmt.Errorf("decide submission: %w", err)
		}
		res, err = tx.ExecContext(ctx, `UPDATE users SET identity = ? WHERE id = ?`, string(status), userID)
		return affected("decide submission", res, err)
	})
}

// PendingIdentities implements twinex.IdentityStore.
func (db *DB) PendingIdentities(ctx context.Context, n int) ([]twinex.IdentitySubmission, error) {
	return queryRows(ctx, db.r, "pending identities", scanInto(scanIdentity),
		`SELECT `+identityCols+` FROM identity_submissions WHERE status = 'pending' ORDER BY submitted LIMIT ?`, limit(n, 100))
}
