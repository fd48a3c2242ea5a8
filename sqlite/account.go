package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/twinex/twinex"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ twinex.AccountStore = (*DB)(nil)

// isConflict reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConflict(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}

// CreateUser implements twinex.AccountStore.
func (db *DB) CreateUser(ctx context.Context, u *twinex.User) (twinex.Account, error) {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.Identity == "" {
		u.Identity = twinex.IdentityNone
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return twinex.Account{}, fmt.Errorf("create user: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO users (email, password_hash, identity, created) VALUES (?, ?, ?, ?)`,
		u.Email, u.PasswordHash, string(u.Identity), u.Created)
	if isConflict(err) {
		return twinex.Account{}, fmt.Errorf("create user %s: %w", u.Email, twinex.ErrConflict)
	}
	if err != nil {
		return twinex.Account{}, fmt.Errorf("create user: %w", err)
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return twinex.Account{}, fmt.Errorf("create user: %w", err)
	}
	a := twinex.Account{UserID: u.ID, Name: "Primary", Nickname: twinex.PrimaryNickname, Type: "exchange", Created: u.Created}
	if err := insertAccount(ctx, tx, &a); err != nil {
		return twinex.Account{}, err
	}
	if err := tx.Commit(); err != nil {
		return twinex.Account{}, fmt.Errorf("create user: %w", err)
	}
	return a, nil
}

func insertAccount(ctx context.Context, tx *sql.Tx, a *twinex.Account) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO accounts (id, user_id, name, nickname, type, created)
		VALUES ((SELECT COALESCE(MAX(id), ?) + 1 FROM accounts), ?, ?, ?, ?, ?) RETURNING id`,
		twinex.FirstUserAccountID-1, a.UserID, a.Name, a.Nickname, a.Type, a.Created).Scan(&a.ID)
	if isConflict(err) {
		return fmt.Errorf("create account %q: %w", a.Nickname, twinex.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

// User implements twinex.AccountStore.
func (db *DB) User(ctx context.Context, id int64) (twinex.User, error) {
	return db.user(ctx, `id = ?`, id)
}

// UserByEmail implements twinex.AccountStore; the email matches in any case.
func (db *DB) UserByEmail(ctx context.Context, email string) (twinex.User, error) {
	return db.user(ctx, `email = ?`, strings.ToLower(strings.TrimSpace(email)))
}

func (db *DB) user(ctx context.Context, where string, arg any) (twinex.User, error) {
	var u twinex.User
	var identity string
	err := db.r.QueryRowContext(ctx, `SELECT id, email, password_hash, identity, created FROM users WHERE `+where, arg).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &identity, &u.Created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user: %w", twinex.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("user: %w", err)
	}
	u.Identity = twinex.IdentityStatus(identity)
	return u, nil
}

// SetIdentity implements twinex.AccountStore.
func (db *DB) SetIdentity(ctx context.Context, userID int64, s twinex.IdentityStatus) error {
	res, err := db.w.ExecContext(ctx, `UPDATE users SET identity = ? WHERE id = ?`, string(s), userID)
	return affected("set identity", res, err)
}

func affected(what string, res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, twinex.ErrNotFound)
	}
	return nil
}

// CreateAccount implements twinex.AccountStore.
func (db *DB) CreateAccount(ctx context.Context, a *twinex.Account) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	defer tx.Rollback()
	if err := insertAccount(ctx, tx, a); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

const accountCols = `id, user_id, name, nickname, type, created`

func scanAccount(s rowScanner, a *twinex.Account) error {
	return s.Scan(&a.ID, &a.UserID, &a.Name, &a.Nickname, &a.Type, &a.Created)
}

// Account implements twinex.AccountStore.
func (db *DB) Account(ctx context.Context, id int64) (twinex.Account, error) {
	var a twinex.Account
	err := scanAccount(db.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id), &a)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("account %d: %w", id, twinex.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("account: %w", err)
	}
	return a, nil
}

// Accounts implements twinex.AccountStore.
func (db *DB) Accounts(ctx context.Context, userID int64) ([]twinex.Account, error) {
	return queryRows(ctx, db.r, "accounts", scanInto(scanAccount), `SELECT `+accountCols+` FROM accounts WHERE user_id = ? ORDER BY id`, userID)
}

const keyCols = `id, user_id, account_id, master, label, roles, allowlist, require_heartbeat, time_nonce,
	secret, prev_secret, prev_until, created, expires, revoked, last_nonce, last_used, last_ip, use_seq`

func keyArgs(k *twinex.APIKey) []any {
	return []any{k.ID, k.UserID, k.AccountID, k.Master, k.Label, int64(k.Roles), strings.Join(k.Allowlist, ","),
		k.RequireHeartbeat, k.TimeNonce, nonNil(k.Secret), nonNil(k.PrevSecret), k.PrevUntil, k.Created, k.Expires,
		k.Revoked, k.LastNonce, k.LastUsed, k.LastIP, k.UseSeq}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanKey(s rowScanner, k *twinex.APIKey) error {
	var roles int64
	var allow string
	err := s.Scan(&k.ID, &k.UserID, &k.AccountID, &k.Master, &k.Label, &roles, &allow, &k.RequireHeartbeat,
		&k.TimeNonce, &k.Secret, &k.PrevSecret, &k.PrevUntil, &k.Created, &k.Expires, &k.Revoked, &k.LastNonce,
		&k.LastUsed, &k.LastIP, &k.UseSeq)
	k.Roles = twinex.Role(roles)
	k.Allowlist = nil
	if allow != "" {
		k.Allowlist = strings.Split(allow, ",")
	}
	if len(k.PrevSecret) == 0 {
		k.PrevSecret = nil
	}
	return err
}

// CreateKey implements twinex.AccountStore.
func (db *DB) CreateKey(ctx context.Context, k *twinex.APIKey) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO api_keys (`+keyCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, keyArgs(k)...)
	if isConflict(err) {
		return fmt.Errorf("create key: %w", twinex.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

// Key implements twinex.AccountStore.
func (db *DB) Key(ctx context.Context, id string) (twinex.APIKey, error) {
	var k twinex.APIKey
	err := scanKey(db.r.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE id = ?`, id), &k)
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("key: %w", twinex.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("key: %w", err)
	}
	return k, nil
}

// Keys implements twinex.AccountStore.
func (db *DB) Keys(ctx context.Context, userID int64) ([]twinex.APIKey, error) {
	return db.queryKeys(ctx, "keys", `SELECT `+keyCols+` FROM api_keys WHERE user_id = ? ORDER BY created DESC, id`, userID)
}

// UpdateKey implements twinex.AccountStore.
func (db *DB) UpdateKey(ctx context.Context, k *twinex.APIKey) error {
	args := keyArgs(k)
	// The stored use (last nonce, time, address) stays when it is later
	// (by use_seq) than the caller's: an edit made from an older cache
	// never takes a nonce mark back.
	res, err := db.w.ExecContext(ctx, `UPDATE api_keys SET user_id = ?1, account_id = ?2, master = ?3, label = ?4, roles = ?5,
		allowlist = ?6, require_heartbeat = ?7, time_nonce = ?8, secret = ?9, prev_secret = ?10, prev_until = ?11, created = ?12,
		expires = ?13, revoked = ?14, last_nonce = CASE WHEN use_seq > ?18 THEN last_nonce ELSE ?15 END,
		last_used = CASE WHEN use_seq > ?18 THEN last_used ELSE ?16 END, last_ip = CASE WHEN use_seq > ?18 THEN last_ip ELSE ?17 END,
		use_seq = MAX(use_seq, ?18) WHERE id = ?19`, append(args[1:], args[0])...)
	return affected("update key", res, err)
}

// keyUseSQL records a key's use unless a later one (by Seq) is stored.
const keyUseSQL = `UPDATE api_keys SET last_nonce = ?, last_used = ?, last_ip = ?, use_seq = ? WHERE id = ? AND use_seq < ?`

// keyReplaySQL stores a replay mark; a mark already there keeps the later
// end.
const keyReplaySQL = `INSERT INTO key_replays (key_id, sig, until) VALUES (?, ?, ?)
	ON CONFLICT (key_id, sig) DO UPDATE SET until = MAX(until, excluded.until)`

// KeyUses implements twinex.AccountStore.
func (db *DB) KeyUses(ctx context.Context) ([]twinex.KeyUse, error) {
	return queryAll(ctx, db.r, "key uses", func(u *twinex.KeyUse) []any { return []any{&u.ID, &u.LastNonce, &u.LastUsed, &u.LastIP, &u.Seq} },
		`SELECT id, last_nonce, last_used, last_ip, use_seq FROM api_keys ORDER BY id`)
}

// KeyReplays implements twinex.AccountStore.
func (db *DB) KeyReplays(ctx context.Context, keyID string, after int64) ([]twinex.KeyReplay, error) {
	q, args := `SELECT key_id, sig, until FROM key_replays WHERE key_id = ? AND until > ? ORDER BY sig`, []any{keyID, after}
	if keyID == "" {
		q, args = `SELECT key_id, sig, until FROM key_replays WHERE until > ? ORDER BY key_id, sig`, []any{after}
	}
	return queryAll(ctx, db.r, "key replays", func(m *twinex.KeyReplay) []any { return []any{&m.KeyID, &m.Sig, &m.Until} }, q, args...)
}

// PruneKeyReplays implements twinex.AccountStore.
func (db *DB) PruneKeyReplays(ctx context.Context, before int64) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM key_replays WHERE until < ?`, before); err != nil {
		return fmt.Errorf("prune key replays: %w", err)
	}
	return nil
}

// TouchKeys implements twinex.AccountStore.
func (db *DB) TouchKeys(ctx context.Context, uses []twinex.KeyUse) error {
	if len(uses) == 0 {
		return nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("touch keys: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, keyUseSQL)
	if err != nil {
		return fmt.Errorf("touch keys: %w", err)
	}
	defer stmt.Close()
	var marks *sql.Stmt
	for _, u := range uses {
		if _, err := stmt.ExecContext(ctx, u.LastNonce, u.LastUsed, u.LastIP, u.Seq, u.ID, u.Seq); err != nil {
			return fmt.Errorf("touch keys: %w", err)
		}
		if m := u.Replay; m.Sig != "" {
			if marks == nil {
				if marks, err = tx.PrepareContext(ctx, keyReplaySQL); err != nil {
					return fmt.Errorf("touch keys: %w", err)
				}
				defer marks.Close()
			}
			if _, err := marks.ExecContext(ctx, m.KeyID, m.Sig, m.Until); err != nil {
				return fmt.Errorf("touch keys: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("touch keys: %w", err)
	}
	return nil
}

// SealedSecret is one value sealed under the master key: an API key's
// secret (or its previous one during a rotation) or a user's TOTP seed.
type SealedSecret struct {
	KeyID  string // the key's id; "" for a TOTP seed
	Prev   bool   // the key's previous secret
	UserID int64  // the TOTP seed's user; 0 for a key's secret
	Sealed []byte
}

// SealedSecrets returns every sealed value in the store, so that a restore
// can check that this server's master key opens them all.
func (db *DB) SealedSecrets(ctx context.Context) ([]SealedSecret, error) {
	return queryAll(ctx, db.r, "sealed secrets", func(s *SealedSecret) []any { return []any{&s.KeyID, &s.Prev, &s.UserID, &s.Sealed} },
		`SELECT id, 0, 0, secret FROM api_keys
		UNION ALL SELECT id, 1, 0, prev_secret FROM api_keys WHERE length(prev_secret) > 0
		UNION ALL SELECT '', 0, user_id, secret FROM mfa`)
}
