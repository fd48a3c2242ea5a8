package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/twinex/twinex"
)

// The dashboard's storage (migration 0005): browser sessions, emailed
// single-use tokens, verified email addresses, login attempts and the audit
// log; *DB implements twinex.DashboardStore with the domain's row types.
type (
	WebSession   = twinex.Session
	EmailToken   = twinex.EmailToken
	LoginAttempt = twinex.LoginAttempt
	AuditEvent   = twinex.AuditEvent
)

var _ twinex.DashboardStore = (*DB)(nil)

const sessionCols = `id, user_id, created, expires, last_seen, ip, mfa_ok`

func sessionFields(x *WebSession) []any {
	return []any{&x.ID, &x.UserID, &x.Created, &x.Expires, &x.LastSeen, &x.IP, &x.MFA}
}

func scanSession(s rowScanner, x *WebSession) error {
	return s.Scan(sessionFields(x)...)
}

// CreateSession stores a new session; twinex.ErrConflict if its id is taken.
func (db *DB) CreateSession(ctx context.Context, s WebSession) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO web_sessions (`+sessionCols+`) VALUES (?,?,?,?,?,?,?)`,
		s.ID, s.UserID, s.Created, s.Expires, s.LastSeen, s.IP, s.MFA)
	if isConflict(err) {
		return fmt.Errorf("create session: %w", twinex.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns the session with the id, expired or not, or
// twinex.ErrNotFound.
func (db *DB) Session(ctx context.Context, id string) (WebSession, error) {
	var s WebSession
	err := scanSession(db.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM web_sessions WHERE id = ?`, id), &s)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("session: %w", twinex.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("session: %w", err)
	}
	return s, nil
}

// Sessions lists a user's sessions, most recently seen first.
func (db *DB) Sessions(ctx context.Context, userID int64) ([]WebSession, error) {
	return queryAll(ctx, db.r, "sessions", sessionFields,
		`SELECT `+sessionCols+` FROM web_sessions WHERE user_id = ? ORDER BY last_seen DESC, id`, userID)
}

// TouchSession records that a session was used at lastSeen; ErrNotFound if
// there is none.
func (db *DB) TouchSession(ctx context.Context, id string, lastSeen int64) error {
	res, err := db.w.ExecContext(ctx, `UPDATE web_sessions SET last_seen = ? WHERE id = ?`, lastSeen, id)
	return affected("touch session", res, err)
}

// SetSessionMFA records whether the second factor was given in a session;
// ErrNotFound if there is none.
func (db *DB) SetSessionMFA(ctx context.Context, id string, ok bool) error {
	res, err := db.w.ExecContext(ctx, `UPDATE web_sessions SET mfa_ok = ? WHERE id = ?`, ok, id)
	return affected("set session mfa", res, err)
}

// DeleteSession deletes a session; deleting one that does not exist is not
// an error (logging out twice is fine).
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM web_sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions deletes every session of a user except the one with
// id except ("" to delete them all).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64, except string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = ? AND id <> ?`, userID, except); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

// CreateEmailToken stores an emailed token; twinex.ErrConflict if its hash
// is taken.
func (db *DB) CreateEmailToken(ctx context.Context, t EmailToken) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO email_tokens (hash, user_id, purpose, created, expires, used) VALUES (?,?,?,?,?,?)`,
		t.Hash, t.UserID, t.Purpose, t.Created, t.Expires, t.Used)
	if isConflict(err) {
		return fmt.Errorf("create email token: %w", twinex.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create email token: %w", err)
	}
	return nil
}

// EmailToken returns the token with the hash, used or expired or not, or
// twinex.ErrNotFound.
func (db *DB) EmailToken(ctx context.Context, hash string) (EmailToken, error) {
	var t EmailToken
	err := db.r.QueryRowContext(ctx, `SELECT hash, user_id, purpose, created, expires, used FROM email_tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.UserID, &t.Purpose, &t.Created, &t.Expires, &t.Used)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("email token: %w", twinex.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("email token: %w", err)
	}
	return t, nil
}

// useToken marks an unused, unexpired token of the purpose used at now and
// returns its user; twinex.ErrNotFound when there is no such token (unknown,
// used, expired or of another purpose: the caller cannot tell which).
func useToken(ctx context.Context, tx *sql.Tx, hash, purpose string, now int64) (int64, error) {
	var userID int64
	err := tx.QueryRowContext(ctx, `UPDATE email_tokens SET used = ? WHERE hash = ? AND purpose = ? AND used = 0 AND expires > ?
		RETURNING user_id`, now, hash, purpose, now).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, twinex.ErrNotFound
	}
	return userID, err
}

// VerifyEmail uses a "verify" token and marks its user's email address
// verified at now, in one transaction. It returns the user, or
// twinex.ErrNotFound for a token that is unknown, used or expired.
func (db *DB) VerifyEmail(ctx context.Context, hash string, now int64) (int64, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("verify email: %w", err)
	}
	defer tx.Rollback()
	userID, err := useToken(ctx, tx, hash, "verify", now)
	if err != nil {
		return 0, fmt.Errorf("verify email: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO email_verified (user_id, verified) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`, userID, now); err != nil {
		return 0, fmt.Errorf("verify email: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("verify email: %w", err)
	}
	return userID, nil
}

// SetEmailVerified marks a user's email address verified at `at` (for
// operators and the sandbox's demo user); marking it again keeps the
// first time.
func (db *DB) SetEmailVerified(ctx context.Context, userID, at int64) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO email_verified (user_id, verified) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`, userID, at); err != nil {
		return fmt.Errorf("set email verified: %w", err)
	}
	return nil
}

// EmailVerified returns when a user's email address was verified, or 0.
func (db *DB) EmailVerified(ctx context.Context, userID int64) (int64, error) {
	var at int64
	err := db.r.QueryRowContext(ctx, `SELECT verified FROM email_verified WHERE user_id = ?`, userID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("email verified: %w", err)
	}
	return at, nil
}

// ResetPassword uses a "reset" token and, in one transaction, sets its
// user's password hash, ends all the user's sessions and voids the user's
// other reset tokens. It returns the user, or twinex.ErrNotFound for a
// token that is unknown, used or expired.
func (db *DB) ResetPassword(ctx context.Context, hash, passwordHash string, now int64) (int64, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	defer tx.Rollback()
	userID, err := useToken(ctx, tx, hash, "reset", now)
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	if err := setPassword(ctx, tx, userID, passwordHash, ""); err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE email_tokens SET used = ? WHERE user_id = ? AND purpose = 'reset' AND used = 0`, now, userID); err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	return userID, nil
}

// ChangePassword sets a user's password hash and ends the user's sessions
// other than keepSession ("" ends them all), in one transaction;
// twinex.ErrNotFound if there is no such user.
func (db *DB) ChangePassword(ctx context.Context, userID int64, passwordHash, keepSession string) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	defer tx.Rollback()
	if err := setPassword(ctx, tx, userID, passwordHash, keepSession); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

func setPassword(ctx context.Context, tx *sql.Tx, userID int64, passwordHash, keepSession string) error {
	res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID)
	if err := affected("set password", res, err); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = ? AND id <> ?`, userID, keepSession)
	return err
}

// AddLoginAttempt records a login attempt.
func (db *DB) AddLoginAttempt(ctx context.Context, a LoginAttempt) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO login_attempts (email, ip, time, ok) VALUES (?,?,?,?)`,
		strings.ToLower(a.Email), a.IP, a.Time, a.OK)
	if err != nil {
		return fmt.Errorf("add login attempt: %w", err)
	}
	return nil
}

// LoginAttempts returns the attempts at or after since that were for the
// email or came from the ip, oldest first.
func (db *DB) LoginAttempts(ctx context.Context, email, ip string, since int64) ([]LoginAttempt, error) {
	return queryAll(ctx, db.r, "login attempts", func(a *LoginAttempt) []any { return []any{&a.Email, &a.IP, &a.Time, &a.OK} },
		`SELECT email, ip, time, ok FROM login_attempts WHERE email = ? AND time >= ?
		UNION ALL SELECT email, ip, time, ok FROM login_attempts WHERE ip = ? AND email <> ? AND time >= ?
		ORDER BY time`, strings.ToLower(email), since, ip, strings.ToLower(email), since)
}

// AddAudit appends an event to a user's audit log.
func (db *DB) AddAudit(ctx context.Context, e AuditEvent) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO audit_log (user_id, time, ip, action, detail) VALUES (?,?,?,?,?)`,
		e.UserID, e.Time, e.IP, e.Action, e.Detail)
	if err != nil {
		return fmt.Errorf("add audit: %w", err)
	}
	return nil
}

// AuditLog returns a user's latest audit events, newest first, at most
// limit of them.
// HasAudit reports whether a user's audit log has an event with action,
// from ip unless ip is "".
func (db *DB) HasAudit(ctx context.Context, userID int64, action, ip string) (bool, error) {
	var one int
	err := db.r.QueryRowContext(ctx, `SELECT 1 FROM audit_log WHERE user_id = ? AND action = ? AND (? = '' OR ip = ?) LIMIT 1`,
		userID, action, ip, ip).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("has audit: %w", err)
	}
	return true, nil
}

func (db *DB) AuditLog(ctx context.Context, userID int64, limit int) ([]AuditEvent, error) {
	return queryAll(ctx, db.r, "audit log", func(e *AuditEvent) []any { return []any{&e.UserID, &e.Time, &e.IP, &e.Action, &e.Detail} },
		`SELECT user_id, time, ip, action, detail FROM audit_log WHERE user_id = ? ORDER BY id DESC LIMIT ?`, userID, limit)
}

// PruneWeb deletes sessions and email tokens that expired before now and
// login attempts older than attemptsBefore. The audit log is kept.
func (db *DB) PruneWeb(ctx context.Context, now, attemptsBefore int64) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("prune web: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM web_sessions WHERE expires <= ?`, now},
		{`DELETE FROM email_tokens WHERE expires <= ?`, now},
		{`DELETE FROM login_attempts WHERE time < ?`, attemptsBefore},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.arg); err != nil {
			return fmt.Errorf("prune web: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("prune web: %w", err)
	}
	return nil
}
