package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twinex/twinex"
)

var _ twinex.AccountStore = (*DB)(nil)

// CreateUser implements twinex.AccountStore.
func (db *DB) CreateUser(ctx context.Context, u *twinex.User) (twinex.Account, error) {
	email := strings.ToLower(strings.TrimSpace(u.Email))
	identity := u.Identity
	if identity == "" {
		identity = twinex.IdentityNone
	}
	var id int64
	a := twinex.Account{Name: "Primary", Nickname: twinex.PrimaryNickname, Type: "exchange", Created: u.Created}
	err := db.update(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO users (email, password_hash, identity, created) VALUES ($1, $2, $3, $4) RETURNING id`,
			email, u.PasswordHash, string(identity), u.Created).Scan(&id)
		if isConflict(err) {
			return fmt.Errorf("create user %s: %w", email, twinex.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		a.UserID = id
		return insertAccount(ctx, tx, &a)
	})
	if err != nil {
		return twinex.Account{}, err
	}
	// u changes only once the user is stored, so a caller retrying after
	// an error sends what it sent.
	u.ID, u.Email, u.Identity = id, email, identity
	return a, nil
}

func insertAccount(ctx context.Context, q querier, a *twinex.Account) error {
	err := q.QueryRow(ctx, `INSERT INTO accounts (user_id, name, nickname, type, created) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		a.UserID, a.Name, a.Nickname, a.Type, a.Created).Scan(&a.ID)
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
	return db.user(ctx, `id = $1`, id)
}

// UserByEmail implements twinex.AccountStore; the email matches in any case.
func (db *DB) UserByEmail(ctx context.Context, email string) (twinex.User, error) {
	return db.user(ctx, `email = $1`, strings.ToLower(strings.TrimSpace(email)))
}

func (db *DB) user(ctx context.Context, where string, arg any) (twinex.User, error) {
	var u twinex.User
	var identity string
	err := queryOne(ctx, db.pool, "user", []any{&u.ID, &u.Email, &u.PasswordHash, &identity, &u.Created},
		`SELECT id, email, password_hash, identity, created FROM users WHERE `+where, arg)
	u.Identity = twinex.IdentityStatus(identity)
	return u, err
}

// SetIdentity implements twinex.AccountStore.
func (db *DB) SetIdentity(ctx context.Context, userID int64, s twinex.IdentityStatus) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET identity = $1 WHERE id = $2`, string(s), userID)
	return affected("set identity", tag, err)
}

// CreateAccount implements twinex.AccountStore. Account ids come from a
// sequence starting at twinex.FirstUserAccountID: they rise, but an
// account refused for its nickname leaves a gap.
func (db *DB) CreateAccount(ctx context.Context, a *twinex.Account) error {
	return insertAccount(ctx, db.pool, a)
}

const accountCols = `id, user_id, name, nickname, type, created`

func accountFields(a *twinex.Account) []any {
	return []any{&a.ID, &a.UserID, &a.Name, &a.Nickname, &a.Type, &a.Created}
}

// Account implements twinex.AccountStore.
func (db *DB) Account(ctx context.Context, id int64) (twinex.Account, error) {
	var a twinex.Account
	err := queryOne(ctx, db.pool, fmt.Sprintf("account %d", id), accountFields(&a), `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id)
	return a, err
}

// Accounts implements twinex.AccountStore.
func (db *DB) Accounts(ctx context.Context, userID int64) ([]twinex.Account, error) {
	return queryAll(ctx, db.pool, "accounts", accountFields, `SELECT `+accountCols+` FROM accounts WHERE user_id = $1 ORDER BY id`, userID)
}

const keyCols = `id, user_id, account_id, master, label, roles, allowlist, require_heartbeat, time_nonce,
	secret, prev_secret, prev_until, created, expires, revoked, last_nonce, last_used, last_ip, use_seq`

func keyArgs(k *twinex.APIKey) []any {
	allow := k.Allowlist
	if allow == nil {
		allow = []string{}
	}
	return []any{k.ID, k.UserID, k.AccountID, k.Master, k.Label, int64(k.Roles), allow,
		k.RequireHeartbeat, k.TimeNonce, nonNil(k.Secret), nonNil(k.PrevSecret), k.PrevUntil, k.Created, k.Expires,
		k.Revoked, k.LastNonce, k.LastUsed, k.LastIP, k.UseSeq}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// scanKey reads a row of keyCols. An empty allowlist and an empty previous
// secret read back as nil, as they were before being stored.
func scanKey(r pgx.Row) (twinex.APIKey, error) {
	var k twinex.APIKey
	var roles int64
	err := r.Scan(&k.ID, &k.UserID, &k.AccountID, &k.Master, &k.Label, &roles, &k.Allowlist, &k.RequireHeartbeat,
		&k.TimeNonce, &k.Secret, &k.PrevSecret, &k.PrevUntil, &k.Created, &k.Expires, &k.Revoked, &k.LastNonce,
		&k.LastUsed, &k.LastIP, &k.UseSeq)
	k.Roles = twinex.Role(roles)
	if len(k.Allowlist) == 0 {
		k.Allowlist = nil
	}
	if len(k.PrevSecret) == 0 {
		k.PrevSecret = nil
	}
	return k, err
}

// CreateKey implements twinex.AccountStore.
func (db *DB) CreateKey(ctx context.Context, k *twinex.APIKey) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO api_keys (`+keyCols+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)`, keyArgs(k)...)
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
	ks, err := db.queryKeys(ctx, "key", `SELECT `+keyCols+` FROM api_keys WHERE id = $1`, id)
	if err != nil {
		return twinex.APIKey{}, err
	}
	if len(ks) == 0 {
		return twinex.APIKey{}, fmt.Errorf("key: %w", twinex.ErrNotFound)
	}
	return ks[0], nil
}

// Keys implements twinex.AccountStore.
func (db *DB) Keys(ctx context.Context, userID int64) ([]twinex.APIKey, error) {
	return db.queryKeys(ctx, "keys", `SELECT `+keyCols+` FROM api_keys WHERE user_id = $1 ORDER BY created DESC, id`, userID)
}

func (db *DB) queryKeys(ctx context.Context, what, q string, args ...any) ([]twinex.APIKey, error) {
	return queryRows(ctx, db.pool, what, scanKey, q, args...)
}

// UpdateKey implements twinex.AccountStore.
func (db *DB) UpdateKey(ctx context.Context, k *twinex.APIKey) error {
	// The stored use stays when it is later (by use_seq) than the
	// caller's, as in the SQLite store: an edit made from an older cache
	// never takes a nonce mark back.
	const q = `UPDATE api_keys SET user_id = $2, account_id = $3, master = $4, label = $5, roles = $6,
		allowlist = $7, require_heartbeat = $8, time_nonce = $9, secret = $10, prev_secret = $11, prev_until = $12,
		created = $13, expires = $14, revoked = $15, last_nonce = CASE WHEN use_seq > $19 THEN last_nonce ELSE $16 END,
		last_used = CASE WHEN use_seq > $19 THEN last_used ELSE $17 END, last_ip = CASE WHEN use_seq > $19 THEN last_ip ELSE $18 END,
		use_seq = GREATEST(use_seq, $19) WHERE id = $1`
	if db.fence == 0 {
		tag, err := db.pool.Exec(ctx, q, keyArgs(k)...)
		return affected("update key", tag, err)
	}
	var tag pgconn.CommandTag
	err := db.update(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fenceSQL, db.fence); err != nil {
			return fenced(err)
		}
		var err error
		tag, err = tx.Exec(ctx, q, keyArgs(k)...)
		return err
	})
	return affected("update key", tag, err)
}

// keyUseSQL records a key's use unless a later one (by Seq) is stored. The
// exchange store's commit will write its batch's key uses with it too.
const keyUseSQL = `UPDATE api_keys SET last_nonce = $1, last_used = $2, last_ip = $3, use_seq = $4 WHERE id = $5 AND use_seq < $4`

// keyReplaySQL stores a replay mark; a mark already there keeps the later
// end.
const keyReplaySQL = `INSERT INTO key_replays (key_id, sig, until) VALUES ($1, $2, $3)
	ON CONFLICT (key_id, sig) DO UPDATE SET until = GREATEST(key_replays.until, excluded.until)`

// queueKeyUses adds the statements that store uses (and their replay
// marks) to b. Uses go in key id order, stably, so that two transactions
// touching the same keys lock their rows in the same order and cannot
// deadlock.
func queueKeyUses(b *pgx.Batch, uses []twinex.KeyUse) {
	sorted := slices.Clone(uses)
	slices.SortStableFunc(sorted, func(x, y twinex.KeyUse) int { return cmp.Compare(x.ID, y.ID) })
	for _, u := range sorted {
		b.Queue(keyUseSQL, u.LastNonce, u.LastUsed, u.LastIP, u.Seq, u.ID)
		if m := u.Replay; m.Sig != "" {
			b.Queue(keyReplaySQL, m.KeyID, m.Sig, m.Until)
		}
	}
}

// TouchKeys implements twinex.AccountStore: the updates go to the server in
// one round trip, in one transaction.
func (db *DB) TouchKeys(ctx context.Context, uses []twinex.KeyUse) error {
	if len(uses) == 0 {
		return nil
	}
	err := db.update(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		if db.fence != 0 {
			b.Queue(fenceSQL, db.fence)
		}
		queueKeyUses(&b, uses)
		return fenced(tx.SendBatch(ctx, &b).Close())
	})
	if err != nil {
		return fmt.Errorf("touch keys: %w", err)
	}
	return nil
}

// KeyUses implements twinex.AccountStore.
func (db *DB) KeyUses(ctx context.Context) ([]twinex.KeyUse, error) {
	return queryAll(ctx, db.pool, "key uses", func(u *twinex.KeyUse) []any { return []any{&u.ID, &u.LastNonce, &u.LastUsed, &u.LastIP, &u.Seq} },
		`SELECT id, last_nonce, last_used, last_ip, use_seq FROM api_keys ORDER BY id`)
}

// KeyReplays implements twinex.AccountStore.
func (db *DB) KeyReplays(ctx context.Context, keyID string, after int64) ([]twinex.KeyReplay, error) {
	q, args := `SELECT key_id, sig, until FROM key_replays WHERE key_id = $1 AND until > $2 ORDER BY sig`, []any{keyID, after}
	if keyID == "" {
		q, args = `SELECT key_id, sig, until FROM key_replays WHERE until > $1 ORDER BY key_id, sig`, []any{after}
	}
	return queryAll(ctx, db.pool, "key replays", func(m *twinex.KeyReplay) []any { return []any{&m.KeyID, &m.Sig, &m.Until} }, q, args...)
}

// PruneKeyReplays implements twinex.AccountStore.
func (db *DB) PruneKeyReplays(ctx context.Context, before int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM key_replays WHERE until < $1`, before); err != nil {
		return fmt.Errorf("prune key replays: %w", err)
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

// SealedSecrets returns every sealed value in the store, so that a move or
// a restore can check that this server's master key opens them all.
func (db *DB) SealedSecrets(ctx context.Context) ([]SealedSecret, error) {
	return queryAll(ctx, db.pool, "sealed secrets", func(s *SealedSecret) []any { return []any{&s.KeyID, &s.Prev, &s.UserID, &s.Sealed} },
		`SELECT id, false, 0::bigint, secret FROM api_keys
		UNION ALL SELECT id, true, 0::bigint, prev_secret FROM api_keys WHERE length(prev_secret) > 0
		UNION ALL SELECT '', false, user_id, secret FROM mfa`)
}
