package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex"
)

var _ twinex.IdentityStore = (*DB)(nil)

const identityCols = `user_id, legal_name, birth_date, country, address, submitted, status, reason, reviewed`

func scanIdentity(r pgx.Row) (twinex.IdentitySubmission, error) {
	var x twinex.IdentitySubmission
	var status string
	err := r.Scan(&x.UserID, &x.LegalName, &x.BirthDate, &x.Country, &x.Address, &x.Submitted, &status, &x.Reason, &x.Reviewed)
	x.Status = twinex.IdentityStatus(status)
	return x, err
}

// SubmitIdentity implements twinex.IdentityStore.
func (db *DB) SubmitIdentity(ctx context.Context, s twinex.IdentitySubmission) error {
	return db.update(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET identity = $1 WHERE id = $2`, string(twinex.IdentityPending), s.UserID)
		if err := affected("submit identity", tag, err); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO identity_submissions (`+identityCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,'',0)
			ON CONFLICT (user_id) DO UPDATE SET legal_name = excluded.legal_name, birth_date = excluded.birth_date,
			country = excluded.country, address = excluded.address, submitted = excluded.submitted,
			status = excluded.status, reason = excluded.reason, reviewed = excluded.reviewed`,
			s.UserID, s.LegalName, s.BirthDate, s.Country, s.Address, s.Submitted, string(twinex.IdentityPending)); err != nil {
			return fmt.Errorf("submit identity: %w", err)
		}
		return nil
	})
}

// Identity implements twinex.IdentityStore.
func (db *DB) Identity(ctx context.Context, userID int64) (twinex.IdentitySubmission, error) {
	xs, err := queryRows(ctx, db.pool, "identity", scanIdentity, `SELECT `+identityCols+` FROM identity_submissions WHERE user_id = $1`, userID)
	if err != nil {
		return twinex.IdentitySubmission{}, err
	}
	if len(xs) == 0 {
		return twinex.IdentitySubmission{}, fmt.Errorf("identity: %w", twinex.ErrNotFound)
	}
	return xs[0], nil
}

// ReviewIdentity implements twinex.IdentityStore.
func (db *DB) ReviewIdentity(ctx context.Context, userID int64, status twinex.IdentityStatus, reason string, now int64) error {
	if status != twinex.IdentityVerified && status != twinex.IdentityRejected {
		return fmt.Errorf("review identity: status %q is not a decision", status)
	}
	return db.update(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET identity = $1 WHERE id = $2`, string(status), userID)
		if err := affected("review identity", tag, err); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE identity_submissions SET status = $1, reason = $2, reviewed = $3 WHERE user_id = $4`,
			string(status), reason, now, userID); err != nil {
			return fmt.Errorf("review identity: %w", err)
		}
		return nil
	})
}

// DecideSubmission implements twinex.IdentityStore. The submission's row
// is updated first, so that of two reviewers deciding at once the second
// waits for the first's row lock and then finds it decided.
func (db *DB) DecideSubmission(ctx context.Context, userID, submitted int64, status twinex.IdentityStatus, reason string, now int64) error {
	if status != twinex.IdentityVerified && status != twinex.IdentityRejected {
		return fmt.Errorf("decide submission: status %q is not a decision", status)
	}
	return db.update(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE identity_submissions SET status = $1, reason = $2, reviewed = $3
			WHERE user_id = $4 AND submitted = $5 AND status = 'pending'`, string(status), reason, now, userID, submitted)
		if err != nil {
			return fmt.Errorf("decide submission: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("decide submission: %w", twinex.ErrConflict)
		}
		tag, err = tx.Exec(ctx, `UPDATE users SET identity = $1 WHERE id = $2`, string(status), userID)
		return affected("decide submission", tag, err)
	})
}

// PendingIdentities implements twinex.IdentityStore. Submissions sent at
// the same time come in user order, as in SQLite (whose index on submitted
// keeps ties in rowid order, the user id there), so that a limit cuts the
// list at the same place in both stores.
func (db *DB) PendingIdentities(ctx context.Context, n int) ([]twinex.IdentitySubmission, error) {
	return queryRows(ctx, db.pool, "pending identities", scanIdentity,
		`SELECT `+identityCols+` FROM identity_submissions WHERE status = 'pending' ORDER BY submitted, user_id LIMIT $1`, limit(n, 100))
}
