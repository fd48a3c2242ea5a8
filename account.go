package twinex

import (
	"context"
	"errors"
	"strings"
)

// ErrConflict is returned by stores when a unique value (an email, an
// account nickname in a group, a key id) is already taken.
var ErrConflict = errors.New("already exists")

// IdentityStatus is where a user's identity verification stands. Only
// verified users may create API keys.
type IdentityStatus string

const (
	IdentityNone     IdentityStatus = "none"     // nothing submitted
	IdentityPending  IdentityStatus = "pending"  // submitted, waiting for review
	IdentityVerified IdentityStatus = "verified" // approved
	IdentityRejected IdentityStatus = "rejected" // refused; may resubmit
)

// User is a person who signs in. A user owns a group of accounts (Gemini's
// master group); master API keys act for the whole group.
type User struct {
	ID           int64
	Email        string // lower case, unique
	PasswordHash string // encoded argon2id hash; "" when no password is set
	Identity     IdentityStatus
	Created      int64 // Unix ns
}

// Account is one account of a user's group. Its ID is the ledger account id
// that balances and orders belong to (at least FirstUserAccountID).
type Account struct {
	ID       int64
	UserID   int64
	Name     string // display name, e.g. "Primary"
	Nickname string // Gemini's "account" value, e.g. "primary"; unique in the group
	Type     string // "exchange"
	Created  int64  // Unix ns
}

// PrimaryNickname is the nickname of the account every user starts with.
const PrimaryNickname = "primary"

// Nickname derives Gemini's account nickname from a display name: lower
// case, spaces and dashes become single dashes, other symbols are dropped
// ("My Secondary Account" -> "my-secondary-account").
func Nickname(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b.WriteRune(r)
			dash = false
		case r == ' ' || r == '-' || r == '_':
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// APIKey is an API key. Its secret is kept sealed (encrypted under the
// master key, bound to the key id); after a rotation the previous secret
// keeps working until PrevUntil.
type APIKey struct {
	ID               string // "account-..." or "master-..."
	UserID           int64
	AccountID        int64 // the account an account key acts for; 0 for master keys
	Master           bool
	Label            string
	Roles            Role
	Allowlist        []string // addresses and CIDR ranges; empty allows any
	RequireHeartbeat bool
	TimeNonce        bool
	Secret           []byte // sealed
	PrevSecret       []byte // sealed; valid until PrevUntil
	PrevUntil        int64  // Unix ns
	Created          int64  // Unix ns
	Expires          int64  // Unix ns; 0 never
	Revoked          int64  // Unix ns; 0 while active
	LastNonce        string // the high-water mark of session nonces
	LastUsed         int64  // Unix ns
	LastIP           string
	UseSeq           int64 // the Seq of the stored use (see KeyUse)
}

// Active reports whether the key may be used at time now.
func (k *APIKey) Active(now int64) bool {
	return k.Revoked == 0 && (k.Expires == 0 || now < k.Expires)
}

// AccountStore keeps users, their accounts and their API keys. The sqlite
// store implements it beside ExchangeStore.
type AccountStore interface {
	// CreateUser stores a new user and sets its ID; ErrConflict if the
	// email is taken. It also creates the user's primary account, which it
	// returns.
	CreateUser(ctx context.Context, u *User) (Account, error)
	// User and UserByEmail return ErrNotFound when there is none.
	User(ctx context.Context, id int64) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	// SetIdentity records a user's identity status.
	SetIdentity(ctx context.Context, userID int64, s IdentityStatus) error
	// CreateAccount adds an account to a user's group and sets its ID;
	// ErrConflict if the nickname is taken in the group.
	CreateAccount(ctx context.Context, a *Account) error
	// Account returns ErrNotFound when there is none; Accounts lists a
	// user's accounts, oldest first.
	Account(ctx context.Context, id int64) (Account, error)
	Accounts(ctx context.Context, userID int64) ([]Account, error)
	// CreateKey stores a new key; ErrConflict if the id is taken.
	CreateKey(ctx context.Context, k *APIKey) error
	// Key returns ErrNotFound when there is none; Keys lists a user's keys,
	// newest first.
	Key(ctx context.Context, id string) (APIKey, error)
	Keys(ctx context.Context, userID int64) ([]APIKey, error)
	// UpdateKey writes every field of an existing key; ErrNotFound if there
	// is none.
	UpdateKey(ctx context.Context, k *APIKey) error
	// TouchKeys records keys' uses (LastNonce, LastUsed, LastIP, by Seq)
	// without touching their other fields; a use older than the stored one
	// and unknown ids are skipped. A use's Replay, when set, is stored too.
	TouchKeys(ctx context.Context, uses []KeyUse) error
	// KeyUses returns every key's stored use (for carrying them across a
	// sandbox restore).
	KeyUses(ctx context.Context) ([]KeyUse, error)
	// KeyReplays returns the replay marks of keyID ("" for every key)
	// that are still in force after time after (Unix ns).
	KeyReplays(ctx context.Context, keyID string, after int64) ([]KeyReplay, error)
	// PruneKeyReplays deletes the replay marks that ended before before.
	PruneKeyReplays(ctx context.Context, before int64) error
}

// KeyUse is the latest use of an API key.
type KeyUse struct {
	ID        string
	LastNonce string
	LastUsed  int64 // Unix ns
	LastIP    string
	// Seq orders the uses of a key (larger is later), across restarts. A
	// store keeps the use with the largest Seq: writing an older use never
	// takes the nonce high-water mark back.
	Seq int64
	// Replay, when its Sig is set, marks this use's request as applied
	// (time-based nonces only; see KeyReplay). It is stored with the
	// request's effect.
	Replay KeyReplay
}

// KeyReplay records that a state-changing request of a key with time-based
// nonces was applied. Such nonces may repeat (parallel requests in one
// second), so the nonce check alone cannot refuse a captured request sent
// again while its nonce is still within the window; the mark does, and it
// is durable with the request's effect, so that it holds across restarts,
// crashes, restores and failover.
type KeyReplay struct {
	KeyID string
	// Sig identifies the request: the hex SHA-256 of its signature (in
	// lower case). Two requests with the same signature are the same
	// signed payload.
	Sig string
	// Until is when the request's nonce leaves the time window (Unix ns):
	// from then on the nonce check refuses it without the mark.
	Until int64
}
