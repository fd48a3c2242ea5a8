package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex"
)

// The dashboard's sign-in state (migrations 0004 and 0006): browser
// sessions, emailed single-use tokens, verified email addresses, login
// attempts, the audit log (here) and the second factor (mfa.go).

var _ twinex.DashboardStore = (*DB)(nil)

const sessionCols = `id, user_id, created, expires, last_seen, ip, mfa_ok`

func sessionFields(x *twinex.Session) []any {
	return []any{&x.ID, &x.UserID, &x.Created, &x.Expires, &x.LastSeen, &x.IP, &x.MFA}
}

// CreateSession implements twinex.DashboardStore.
func (db *DB) CreateSession(ctx context.Context, s twinex.Session) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO web_sessions (`+sessionCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		s.ID, s.UserID, s.Created, s.Expires, s.LastSeen, s.IP, s.MFA)
	if isConflict(err) {
		return fmt.Errorf("create session: %w", twinex.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session implements twinex.DashboardStore.
func (db *DB) Session(ctx context.Context, id string) (twinex.Session, error) {
	var s twinex.Session
	err := queryOne(ctx, db.pool, "session", sessionFields(&s), `SELECT `+sessionCols+` FROM web_sessions WHERE id = $1`, id)
	return s, err
}

// Sessions implements twinex.DashboardStore.
func (db *DB) Sessions(ctx context.Context, userID int64) ([]twinex.Session, error) {
	return queryAll(ctx, db.pool, "sessions", sessionFields,
		`SELECT `+sessionCols+` FROM web_sessions WHERE user_id = $1 ORDER BY last_seen DESC, id`, userID)
}

// TouchSession implements twinex.DashboardStore; twinex.ErrNotFound if
// there is no such session.
func (db *DB) TouchSession(ctx context.Context, id string, lastSeen int64) error {
	tag, err := db.pool.Exec(ctx, `UPDATE web_sessions SET last_seen = $1 WHERE id = $2`, lastSeen, id)
	return affected("touch session", tag, err)
}

// SetSessionMFA implements twinex.DashboardStore; twinex.ErrNotFound if
// there is no such session.
func (db *DB) SetSessionMFA(ctx context.Context, id string, ok bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE web_sessions SET mfa_ok = $1 WHERE id = $2`, ok, id)
	return affected("set session mfa", tag, err)
}

// DeleteSession implements twinex.DashboardStore.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM web_sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions implements twinex.DashboardStore.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64, except string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM web_sessions WHERE user_id = $1 AND id <> $2`, userID, except); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

// CreateEmailToken implements twinex.DashboardStore; twinex.ErrConflict if
// its hash is taken.
func (db *DB) CreateEmailToken(ctx context.Context, t twinex.EmailToken) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO email_tokens (hash, user_id, purpose, created, expires, used) VALUES ($1,$2,$3,$4,$5,$6)`,
		t.Hash, t.UserID, t.Purpose, t.Created, t.Expires, t.Used)
	if isConflict(err) {
		return fmt.Errorf("create email token: %w", twinex.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create email token: %w", err)
	}
	return nil
}

// EmailToken implements twinex.DashboardStore.
func (db *DB) EmailToken(ctx context.Context, hash string) (twinex.EmailToken, error) {
	var t twinex.EmailToken
	err := queryOne(ctx, db.pool, "email token", []any{&t.Hash, &t.UserID, &t.Purpose, &t.Created, &t.Expires, &t.Used},
		`SELECT hash, user_id, purpose, created, expires, used FROM email_tokens WHERE hash = $1`, hash)
	return t, err
}

// useToken marks an unused, unexpired token of the purpose used at now and
// returns its user; twinex.ErrNotFound when there is no such token
// (unknown, used, expired or of another purpose: the caller cannot tell
// which). Of two requests using one token at once, the second waits for
// the first's row lock and then finds it used.
func useToken(ctx context.Context, tx pgx.Tx, hash, purpose string, now int64) (int64, error) {
	var userID int64
	err := tx.QueryRow(ctx, `UPDATE email_tokens SET used = $1 WHERE hash = $2 AND purpose = $3 AND used = 0 AND expires > $1
		RETURNING user_id`, now, hash, purpose).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, twinex.ErrNotFound
	}
	return userID, err
}

// VerifyEmail implements twinex.DashboardStore.
func (db *DB) VerifyEmail(ctx context.Context, hash string, now int64) (int64, error) {
	var userID int64
	err := db.update(ctx, func(tx pgx.Tx) error {
		var err error
		if userID, err = useToken(ctx, tx, hash, "verify", now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO email_verified (user_id, verified) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`, userID, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("verify email: %w", err)
	}
	return userID, nil
}

// SetEmailVerified implements twinex.DashboardStore; marking it again keeps
// the first time.
func (db *DB) SetEmailVerified(ctx context.Context, userID, at int64) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO email_verified (user_id, verified) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`, userID, at); err != nil {
		return fmt.Errorf("set email verified: %w", err)
	}
	return nil
}

// EmailVerified implements twinex.DashboardStore.
func (db *DB) EmailVerified(ctx context.Context, userID int64) (int64, error) {
	var at int64
	err := db.pool.QueryRow(ctx, `SELECT verified FROM email_verified WHERE user_id = $1`, userID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("email verified: %w", err)
	}
	return at, nil
}

// ResetPassword implements twinex.DashboardStore.
func (db *DB) ResetPassword(ctx context.Context, hash, passwordHash string, now int64) (int64, error) {
	var userID int64
	err := db.update(ctx, func(tx pgx.Tx) error {
		var err error
		if userID, err = useToken(ctx, tx, hash, "reset", now); err != nil {
			return err
		}
		if err := setPassword(ctx, tx, userID, passwordHash, ""); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE email_tokens SET used = $1 WHERE user_id = $2 AND purpose = 'reset' AND used = 0`, now, userID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	return userID, nil
}

// ChangePassword implements twinex.DashboardStore; twinex.ErrNotFound if
// there is no such user.
func (db *DB) ChangePassword(ctx context.Context, userID int64, passwordHash, keepSession string) error {
	err := db.update(ctx, func(tx pgx.Tx) error {
		return setPassword(ctx, tx, userID, passwordHash, keepSession)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

func setPassword(ctx context.Context, tx pgx.Tx, userID int64, passwordHash, keepSession string) error {
	tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, passwordHash, userID)
	if err := affected("set password", tag, err); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM web_sessions WHERE user_id = $1 AND id <> $2`, userID, keepSession)
	return err
}

// AddLoginAttempt implements twinex.DashboardStore.
func (db *DB) AddLoginAttempt(ctx context.Context, a twinex.LoginAttempt) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO login_attempts (email, ip, time, ok) VALUES ($1,$2,$3,$4)`,
		strings.ToLower(a.Email), a.IP, a.Time, a.OK); err != nil {
		return fmt.Errorf("add login attempt: %w", err)
	}
	return nil
}

// LoginAttempts implements twinex.DashboardStore.
func (db *DB) LoginAttempts(ctx context.Context, email, ip string, since int64) ([]twinex.LoginAttempt, error) {
	return queryAll(ctx, db.pool, "login attempts", func(a *twinex.LoginAttempt) []any { return []any{&a.Email, &a.IP, &a.Time, &a.OK} },
		`SELECT email, ip, time, ok FROM login_attempts WHERE email = $1 AND time >= $2
		UNION ALL SELECT email, ip, time, ok FROM login_attempts WHERE ip = $3 AND email <> $1 AND time >= $2
		ORDER BY time`, strings.ToLower(email), since, ip)
}

// AddAudit implements twinex.DashboardStore.
func (db *DB) AddAudit(ctx context.Context, e twinex.AuditEvent) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO audit_log (user_id, time, ip, action, detail) VALUES ($1,$2,$3,$4,$5)`,
		e.UserID, e.Time, e.IP, e.Action, e.Detail); err != nil {
		return fmt.Errorf("add audit: %w", err)
	}
	return nil
}

// AuditLog implements twinex.DashboardStore; a negative limit lists the
// whole log.
func (db *DB) AuditLog(ctx context.Context, userID int64, limit int) ([]twinex.AuditEvent, error) {
	q, args := `SELECT user_id, time, ip, action, detail FROM audit_log WHERE user_id = $1 ORDER BY id DESC`, []any{userID}
	if limit >= 0 {
		q, args = q+` LIMIT $2`, append(args, limit)
	}
	return queryAll(ctx, db.pool, "audit log", func(e *twinex.AuditEvent) []any { return []any{&e.UserID, &e.Time, &e.IP, &e.Action, &e.Detail} },
		q, args...)
}

// HasAudit implements twinex.DashboardStore.
func (db *DB) HasAudit(ctx context.Context, userID int64, action, ip string) (bool, error) {
	var has bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE user_id = $1 AND action = $2 AND ($3 = '' OR ip = $3))`,
		userID, action, ip).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("has audit: %w", err)
	}
	return has, nil
}

// PruneWeb implements twinex.DashboardStore. The audit log is kept.
func (db *DB) PruneWeb(ctx context.Context, now, attemptsBefore int64) error {
	err := db.update(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		b.Queue(`DELETE FROM web_sessions WHERE expires <= $1`, now)
		b.Queue(`DELETE FROM email_tokens WHERE expires <= $1`, now)
		b.Queue(`DELETE FROM login_attempts WHERE time < $1`, attemptsBefore)
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("prune web: %w", err)
	}
	return nil
}
