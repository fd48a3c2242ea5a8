// Package keys is the API-key service: it creates, rotates and revokes keys
// (their secrets sealed under the master key), and serves the request path
// a cache of keys with their secrets opened, so that authenticating a
// request reads no database. Every change goes through the service and
// updates the cache at once, so a revocation takes effect on the very next
// request.
//
// Nonces: the service keeps each key's high-water mark in memory. A request
// that changes state carries its key's mark into the sequencer's batch
// (Entry.Use), so the mark is durable in the same transaction as the
// effect; marks of read-only requests are written lazily by Flush, since
// replaying a read changes nothing.
package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
)

// Service manages API keys. Store and Sealer are required.
type Service struct {
	Store  twinex.AccountStore
	Sealer *auth.Sealer
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default: discard
	// Fingerprints, when set, maps every new secret's fingerprint to its
	// key, so that FindSecret can find a reported secret's key.
	Fingerprints Fingerprints
	// OnRevoke, when set, is called after a key is revoked, whoever
	// revoked it (the dashboard, the admin API, a secret report).
	OnRevoke func(ctx context.Context, k twinex.APIKey)

	// mu guards the maps below. Every signed request reads cache, so
	// readers share it: with one mutex, requests queued on it at a few
	// hundred connections.
	mu      sync.RWMutex
	cache   map[string]*Entry
	unknown map[string]int64 // ids the store lacks -> until when that is believed (Unix ns)
	known   map[string]bool  // every key id in the store (nil until first needed)
	seq     atomic.Int64
}

// Entry is a cached key.
type Entry struct {
	mu        sync.Mutex
	key       twinex.APIKey
	secret    []byte
	prev      []byte // the previous secret during a rotation's grace period
	allow     auth.Allowlist
	last      auth.Nonce // high-water mark of session nonces
	use       twinex.KeyUse
	dirty     bool  // use not yet written
	durable   int64 // the Seq of the latest use the sequencer made durable (Durable)
	heartbeat int64
	seen      map[string]int64 // time-based keys: signatures of state changes -> expiry
	// seenPruned is when seen was last cleared of expired marks.
	seenPruned int64
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// CreateOptions are a new key's settings.
type CreateOptions struct {
	Master           bool
	Roles            twinex.Role
	Allowlist        []string
	RequireHeartbeat bool
	TimeNonce        bool
	Label            string
	Expires          time.Time // zero: never
}

// Errors of the key service; their text is safe to show to the user.
var (
	ErrNotVerified = errors.New("only accounts whose identity is verified can create API keys")
	ErrRevoked     = errors.New("the key is revoked")
	// ErrInvalid wraps the reasons a key's settings are refused.
	ErrInvalid = errors.New("invalid key settings")
)

// invalid marks err as a refusal of the settings (errors.Is ErrInvalid).
func invalid(err error) error { return fmt.Errorf("%w: %w", ErrInvalid, err) }

// Create makes a key for user u acting for account acct (ignored for master
// keys) and returns it with its secret, which is never stored in clear and
// cannot be retrieved again.
func (s *Service) Create(ctx context.Context, u twinex.User, acct twinex.Account, o CreateOptions) (twinex.APIKey, string, error) {
	if u.Identity != twinex.IdentityVerified {
		return twinex.APIKey{}, "", ErrNotVerified
	}
	if err := twinex.ValidateRoles(o.Roles, o.Master); err != nil {
		return twinex.APIKey{}, "", invalid(err)
	}
	allow, err := auth.ParseAllowlist(o.Allowlist)
	if err != nil {
		return twinex.APIKey{}, "", invalid(err)
	}
	if o.Master && o.RequireHeartbeat {
		// Gemini: cancel-on-disconnect does not apply to master keys.
		return twinex.APIKey{}, "", invalid(errors.New("master keys cannot require a heartbeat"))
	}
	now := s.now()
	if !o.Expires.IsZero() && !o.Expires.After(now) {
		return twinex.APIKey{}, "", invalid(errors.New("the expiry must be in the future"))
	}
	if len(o.Label) > 100 {
		return twinex.APIKey{}, "", invalid(errors.New("the label must have at most 100 characters"))
	}
	id, err := auth.NewKeyID(o.Master)
	if err != nil {
		return twinex.APIKey{}, "", err
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return twinex.APIKey{}, "", err
	}
	k := twinex.APIKey{
		ID: id, UserID: u.ID, Master: o.Master, Label: o.Label, Roles: o.Roles,
		Allowlist: allow.Strings(), RequireHeartbeat: o.RequireHeartbeat, TimeNonce: o.TimeNonce,
		Secret: s.Sealer.Seal([]byte(secret), []byte(id)), Created: now.UnixNano(),
	}
	if !o.Master {
		if acct.UserID != u.ID || acct.ID == 0 {
			return twinex.APIKey{}, "", invalid(errors.New("the account is not the user's"))
		}
		k.AccountID = acct.ID
	}
	if !o.Expires.IsZero() {
		k.Expires = o.Expires.UnixNano()
	}
	if err := s.addFingerprint(ctx, k.ID, secret); err != nil {
		return twinex.APIKey{}, "", err
	}
	if err := s.Store.CreateKey(ctx, &k); err != nil {
		return twinex.APIKey{}, "", fmt.Errorf("create key: %w", err)
	}
	s.mu.Lock()
	delete(s.unknown, k.ID)
	if s.known != nil {
		s.known[k.ID] = true
	}
	s.mu.Unlock()
	s.log().Info("api key created", "key", k.ID, "user", u.ID, "roles", k.Roles.String(), "master", k.Master)
	return k, secret, nil
}

// Revoke revokes a key; the next request with it fails. OnRevoke is called
// when this call is the one that revoked it.
func (s *Service) Revoke(ctx context.Context, id string) (twinex.APIKey, error) {
	revoked := false
	k, err := s.update(ctx, id, func(k *twinex.APIKey, now time.Time) error {
		if k.Revoked != 0 {
			return nil
		}
		k.Revoked, revoked = now.UnixNano(), true
		return nil
	})
	if err == nil && revoked && s.OnRevoke != nil {
		s.OnRevoke(ctx, k)
	}
	return k, err
}

// Rotate gives a key a new secret and returns it. The previous secret keeps
// working for grace (none when zero).
func (s *Service) Rotate(ctx context.Context, id string, grace time.Duration) (twinex.APIKey, string, error) {
	if grace < 0 || grace > 30*24*time.Hour {
		return twinex.APIKey{}, "", invalid(errors.New("the grace period must be between 0 and 30 days"))
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return twinex.APIKey{}, "", err
	}
	if err := s.addFingerprint(ctx, id, secret); err != nil {
		return twinex.APIKey{}, "", err
	}
	k, err := s.update(ctx, id, func(k *twinex.APIKey, now time.Time) error {
		if k.Revoked != 0 {
			return ErrRevoked
		}
		k.PrevSecret, k.PrevUntil = nil, 0
		if grace > 0 {
			k.PrevSecret, k.PrevUntil = k.Secret, now.Add(grace).UnixNano()
		}
		k.Secret = s.Sealer.Seal([]byte(secret), []byte(k.ID))
		return nil
	})
	return k, secret, err
}

// EditOptions are the settings of an existing key that can change.
type EditOptions struct {
	Label     string
	Roles     twinex.Role
	Allowlist []string
	Expires   time.Time // zero: never
}

// Edit changes a key's label, roles, allowlist and expiry, under the rules
// of Create; the next request sees them.
func (s *Service) Edit(ctx context.Context, id string, o EditOptions) (twinex.APIKey, error) {
	allow, err := auth.ParseAllowlist(o.Allowlist)
	if err != nil {
		return twinex.APIKey{}, invalid(err)
	}
	if len(o.Label) > 100 {
		return twinex.APIKey{}, invalid(errors.New("the label must have at most 100 characters"))
	}
	return s.update(ctx, id, func(k *twinex.APIKey, now time.Time) error {
		if k.Revoked != 0 {
			return ErrRevoked
		}
		if err := twinex.ValidateRoles(o.Roles, k.Master); err != nil {
			return invalid(err)
		}
		if !o.Expires.IsZero() && !o.Expires.After(now) {
			return invalid(errors.New("the expiry must be in the future"))
		}
		k.Label, k.Roles, k.Allowlist, k.Expires = o.Label, o.Roles, allow.Strings(), 0
		if !o.Expires.IsZero() {
			k.Expires = o.Expires.UnixNano()
		}
		return nil
	})
}

// update changes a stored key and its cache entry together.
func (s *Service) update(ctx context.Context, id string, change func(*twinex.APIKey, time.Time) error) (twinex.APIKey, error) {
	e, err := s.Lookup(ctx, id)
	if err != nil {
		return twinex.APIKey{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	k := e.key
	if err := change(&k, s.now()); err != nil {
		return twinex.APIKey{}, err
	}
	k.LastNonce, k.LastUsed, k.LastIP, k.UseSeq = e.last.String(), e.use.LastUsed, e.use.LastIP, e.use.Seq
	if err := s.Store.UpdateKey(ctx, &k); err != nil {
		return twinex.APIKey{}, fmt.Errorf("update key: %w", err)
	}
	if err := s.fill(e, k); err != nil {
		return twinex.APIKey{}, err
	}
	e.dirty = false
	s.log().Info("api key changed", "key", k.ID, "revoked", k.Revoked != 0)
	return k, nil
}

// fill sets an entry from a stored key, opening its secrets. e.mu is held or
// e is not shared yet.
func (s *Service) fill(e *Entry, k twinex.APIKey) error {
	secret, err := s.Sealer.Open(k.Secret, []byte(k.ID))
	if err != nil {
		return fmt.Errorf("key %s: open secret: %w", k.ID, err)
	}
	var prev []byte
	if len(k.PrevSecret) > 0 {
		if prev, err = s.Sealer.Open(k.PrevSecret, []byte(k.ID)); err != nil {
			return fmt.Errorf("key %s: open previous secret: %w", k.ID, err)
		}
	}
	allow, err := auth.ParseAllowlist(k.Allowlist)
	if err != nil {
		return fmt.Errorf("key %s: stored allowlist: %w", k.ID, err)
	}
	e.key, e.secret, e.prev, e.allow = k, secret, prev, allow
	return nil
}

// CheckSecret reports whether the service's master key opens the sealed
// secret of key id (its current or previous one): an error wrapping
// auth.ErrOpen (or auth.ErrSealVersion) when it does not.
func (s *Service) CheckSecret(id string, sealed []byte) error {
	_, err := s.Sealer.Open(sealed, []byte(id))
	return err
}

// Lookup returns the cached entry of a key, loading it on first use. It
// returns an error wrapping twinex.ErrNotFound for an unknown key.
func (s *Service) Lookup(ctx context.Context, id string) (*Entry, error) {
	if !auth.ValidKeyID(id) {
		// Never a key: no query, and nothing remembered (the id could be
		// a 64 KB header).
		return nil, fmt.Errorf("key: %w", twinex.ErrNotFound)
	}
	s.mu.RLock()
	e := s.cache[id]
	s.mu.RUnlock()
	if e != nil {
		return e, nil
	}
	now := s.now().UnixNano()
	s.mu.RLock()
	missing := s.isUnknown(id, now)
	s.mu.RUnlock()
	if missing {
		return nil, fmt.Errorf("key %s: %w", id, twinex.ErrNotFound)
	}
	k, err := s.Store.Key(ctx, id)
	if errors.Is(err, twinex.ErrNotFound) {
		s.rememberUnknown(id)
	}
	if err != nil {
		return nil, err
	}
	e = &Entry{}
	if err := s.fill(e, k); err != nil {
		return nil, err
	}
	if k.LastNonce != "" {
		if e.last, err = auth.ParseNonce([]byte(`"` + k.LastNonce + `"`)); err != nil {
			return nil, fmt.Errorf("key %s: stored nonce: %w", k.ID, err)
		}
	}
	e.use = twinex.KeyUse{ID: k.ID, LastNonce: k.LastNonce, LastUsed: k.LastUsed, LastIP: k.LastIP, Seq: k.UseSeq}
	if k.TimeNonce {
		marks, err := s.Store.KeyReplays(ctx, k.ID, s.now().UnixNano())
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k.ID, err)
		}
		if len(marks) > 0 {
			e.seen = make(map[string]int64, len(marks))
			for _, m := range marks {
				e.seen[m.Sig] = m.Until
			}
		}
	}
	// Every later use of this key must sort after the stored one.
	for cur := s.seq.Load(); cur < k.UseSeq && !s.seq.CompareAndSwap(cur, k.UseSeq); cur = s.seq.Load() {
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = map[string]*Entry{}
	}
	if old := s.cache[id]; old != nil {
		return old, nil // another request loaded it first
	}
	s.cache[id] = e
	return e, nil
}

// Key returns a snapshot of the entry's key (without secrets' clear text).
func (e *Entry) Key() twinex.APIKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.key
}

// Verify checks a request's signature against the key's secret, and during
// a rotation's grace period against the previous one, in constant time.
func (e *Entry) Verify(payloadB64, signature string, now time.Time) bool {
	e.mu.Lock()
	secret, prev, until := e.secret, e.prev, e.key.PrevUntil
	e.mu.Unlock()
	ok := auth.Verify(string(secret), payloadB64, signature)
	if prev != nil && now.UnixNano() < until {
		// Both are computed, so the time taken does not tell which matched.
		ok = auth.Verify(string(prev), payloadB64, signature) || ok
	}
	return ok
}

// Allows reports whether the key's allowlist admits addr.
func (e *Entry) Allows(addr netip.Addr) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.allow.Allows(addr)
}
