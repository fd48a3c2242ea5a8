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
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
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

// Negative cache: an id the store does not have is remembered for
// unknownTTL, so that requests naming keys that do not exist (a scanner, a
// client with a deleted key) cost no database query each. At most
// maxUnknown ids are kept.
const (
	unknownTTL = time.Minute
	maxUnknown = 10000
)

// isUnknown reports whether id is remembered as missing. s.mu is held
// (for reading at least).
func (s *Service) isUnknown(id string, now int64) bool {
	until, ok := s.unknown[id]
	return ok && now < until
}

// rememberUnknown remembers that the store lacks id.
func (s *Service) rememberUnknown(id string) {
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unknown == nil {
		s.unknown = map[string]int64{}
	}
	if len(s.unknown) >= maxUnknown {
		for k, until := range s.unknown {
			if until <= now {
				delete(s.unknown, k)
			}
		}
		if len(s.unknown) >= maxUnknown {
			clear(s.unknown)
		}
	}
	s.unknown[id] = now + int64(unknownTTL)
}

// Exists reports whether a key with this id exists (active or not),
// without a query per call: the ids of every key are read once, and keys
// created through the service are added. It lets a limit on requests
// naming unknown keys spare every real key, loaded yet or not.
func (s *Service) Exists(ctx context.Context, id string) (bool, error) {
	s.mu.RLock()
	if s.known != nil {
		ok := s.known[id]
		s.mu.RUnlock()
		return ok, nil
	}
	s.mu.RUnlock()
	uses, err := s.Store.KeyUses(ctx)
	if err != nil {
		return false, fmt.Errorf("key ids: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known == nil {
		s.known = make(map[string]bool, len(uses))
		for _, u := range uses {
			s.known[u.ID] = true
		}
		for id := range s.cache { // created since the read
			s.known[id] = true
		}
	}
	return s.known[id], nil
}

// SweepUnknown forgets the missing ids whose time is up. Run calls it.
func (s *Service) SweepUnknown() {
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, until := range s.unknown {
		if until <= now {
			delete(s.unknown, k)
		}
	}
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

// Fingerprints maps secrets' fingerprints to keys.
type Fingerprints = twinex.FingerprintStore

// addFingerprint records a secret's fingerprint before the secret is
// stored: a fingerprint whose key never got stored finds nothing.
func (s *Service) addFingerprint(ctx context.Context, id, secret string) error {
	if s.Fingerprints == nil {
		return nil
	}
	if err := s.Fingerprints.AddFingerprints(ctx, id, s.Sealer.Fingerprint([]byte(secret))); err != nil {
		return fmt.Errorf("key %s: %w", id, err)
	}
	return nil
}

// FindSecret returns the entry of the key that secret currently opens (its
// secret, or its previous one during a rotation's grace period). It
// returns an error wrapping twinex.ErrNotFound when there is none, also
// for a secret a rotation retired.
func (s *Service) FindSecret(ctx context.Context, secret string) (*Entry, error) {
	if s.Fingerprints == nil {
		return nil, fmt.Errorf("find secret: %w", twinex.ErrNotFound)
	}
	id, err := s.Fingerprints.KeyByFingerprint(ctx, s.Sealer.Fingerprint([]byte(secret)))
	if err != nil {
		return nil, err
	}
	e, err := s.Lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.now().UnixNano()
	if subtle.ConstantTimeCompare(e.secret, []byte(secret)) == 1 ||
		(e.prev != nil && now < e.key.PrevUntil && subtle.ConstantTimeCompare(e.prev, []byte(secret)) == 1) {
		return e, nil
	}
	return nil, fmt.Errorf("find secret: %w", twinex.ErrNotFound)
}

// IndexFingerprints fingerprints the secrets of active keys stored before
// fingerprints existed. Run it at startup.
func (s *Service) IndexFingerprints(ctx context.Context) error {
	if s.Fingerprints == nil {
		return nil
	}
	list, err := s.Fingerprints.Unfingerprinted(ctx)
	if err != nil {
		return fmt.Errorf("index fingerprints: %w", err)
	}
	for _, k := range list {
		var fps [][]byte
		for _, sealed := range [][]byte{k.Secret, k.PrevSecret} {
			if len(sealed) == 0 {
				continue
			}
			secret, err := s.Sealer.Open(sealed, []byte(k.ID))
			if err != nil {
				return fmt.Errorf("index fingerprints: key %s: %w", k.ID, err)
			}
			fps = append(fps, s.Sealer.Fingerprint(secret))
		}
		if err := s.Fingerprints.AddFingerprints(ctx, k.ID, fps...); err != nil {
			return fmt.Errorf("index fingerprints: %w", err)
		}
	}
	if len(list) > 0 {
		s.log().Info("api key secrets fingerprinted", "keys", len(list))
	}
	return nil
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

// Accept checks a request's nonce and records the request: the nonce must
// be within 30 seconds of now for time-based keys, and above the key's
// high-water mark otherwise. It returns the key's use after this request,
// which a state-changing request hands to the sequencer to make durable.
// Errors are *twinex.Error with reason InvalidNonce.
func (s *Service) Accept(e *Entry, n auth.Nonce, now time.Time, ip string) (twinex.KeyUse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.key.TimeNonce {
		if err := n.CheckTimeBased(now); err != nil {
			return twinex.KeyUse{}, err
		}
	} else {
		if err := n.Plausible(now); err != nil {
			return twinex.KeyUse{}, err
		}
		if err := n.Increasing(e.last); err != nil {
			return twinex.KeyUse{}, err
		}
		e.last = n
		e.use.LastNonce = n.String()
	}
	e.use.LastUsed, e.use.LastIP = now.UnixNano(), ip
	e.use.Seq = s.seq.Add(1)
	e.dirty = true
	e.heartbeat = now.UnixNano()
	return e.use, nil
}

// Durable records that the key's use up to seq is durable: the sequencer
// committed it in a batch with the request's effect. Flush then has
// nothing to write for the key unless a later use (a read) came since,
// so that a key placing and cancelling orders costs no write of its own.
func (s *Service) Durable(e *Entry, seq int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.durable = max(e.durable, seq)
}

// replayWindow covers a time-based nonce's whole validity (30 s either
// side of the server's clock) with a second to spare.
const replayWindow = 61 * time.Second

// Once refuses a state-changing request whose signature the key has already
// used within the window. Session nonces never repeat, so it matters only for
// time-based keys, whose nonces may (parallel requests in one second): for
// them an identical signed request within the window is a replay. Reads are
// not checked; repeating one changes nothing. The error is *twinex.Error
// InvalidNonce.
//
// For a time-based key it returns the use to hand to the sequencer (or to
// the store, for a change made outside it) with the request's replay mark
// set, so that the mark is durable with the request's effect: Lookup loads
// the marks still in force, so a replay after a restart is refused too.
// For other keys it returns use unchanged.
func (s *Service) Once(e *Entry, use twinex.KeyUse, signature string, now time.Time) (twinex.KeyUse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.key.TimeNonce {
		return use, nil
	}
	t := now.UnixNano()
	if t-e.seenPruned >= int64(time.Second) { // amortized: a busy key has many marks
		for sig, until := range e.seen {
			if until <= t {
				delete(e.seen, sig)
			}
		}
		e.seenPruned = t
	}
	sig := replaySig(signature)
	if until, ok := e.seen[sig]; ok && until > t {
		return use, twinex.Errorf(twinex.InvalidNonce, "This request was already received; send each request with its own nonce or payload")
	}
	if e.seen == nil {
		e.seen = map[string]int64{}
	}
	until := t + int64(replayWindow)
	e.seen[sig] = until
	use.Replay = twinex.KeyReplay{KeyID: e.key.ID, Sig: sig, Until: until}
	return use, nil
}

// replaySig is a request's identity in a replay mark: the hex SHA-256 of
// its signature in lower case (hex digits in either case sign the same).
func replaySig(signature string) string {
	h := sha256.Sum256([]byte(strings.ToLower(signature)))
	return hex.EncodeToString(h[:])
}

// PruneReplays deletes the stored replay marks that no longer matter: their
// requests' nonces have left the time window.
func (s *Service) PruneReplays(ctx context.Context) error {
	return s.Store.PruneKeyReplays(ctx, s.now().UnixNano())
}

// Flush writes the uses recorded since the last flush, except those the
// sequencer already made durable (Durable). Run it periodically and at
// shutdown.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.RLock()
	entries := make([]*Entry, 0, len(s.cache))
	for _, e := range s.cache {
		entries = append(entries, e)
	}
	s.mu.RUnlock()
	var uses []twinex.KeyUse
	var flushed []*Entry
	for _, e := range entries {
		e.mu.Lock()
		if e.dirty && e.use.Seq <= e.durable {
			e.dirty = false // written with its request's batch
		}
		if e.dirty {
			uses = append(uses, e.use)
			flushed = append(flushed, e)
			e.dirty = false
		}
		e.mu.Unlock()
	}
	if err := s.Store.TouchKeys(ctx, uses); err != nil {
		for _, e := range flushed {
			e.mu.Lock()
			e.dirty = true // try again at the next flush
			e.mu.Unlock()
		}
		return fmt.Errorf("flush key uses: %w", err)
	}
	return nil
}

// Run flushes key uses every interval until ctx ends, then once more.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.Flush(context.WithoutCancel(ctx)); err != nil {
				s.log().Error("flushing key uses at shutdown", "err", err)
			}
			return
		case <-t.C:
			if err := s.Flush(ctx); err != nil {
				s.log().Error("flushing key uses", "err", err)
			}
			if err := s.PruneReplays(ctx); err != nil {
				s.log().Error("pruning replay marks", "err", err)
			}
			s.SweepUnknown()
		}
	}
}

// StartClock starts the heartbeat clock of a key that requires a heartbeat
// and has not been used since the service started: after a restart, a
// client that went silent still loses its session's orders 30 seconds
// later. Unknown keys are ignored.
func (s *Service) StartClock(ctx context.Context, id string, now time.Time) error {
	e, err := s.Lookup(ctx, id)
	if errors.Is(err, twinex.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.key.RequireHeartbeat && e.heartbeat == 0 {
		e.heartbeat = now.UnixNano()
	}
	return nil
}

// Expired returns the keys that require a heartbeat and have had no
// authenticated request for longer than timeout, and restarts their clocks,
// so each silence is reported once.
func (s *Service) Expired(now time.Time, timeout time.Duration) []twinex.APIKey {
	s.mu.RLock()
	entries := make([]*Entry, 0, len(s.cache))
	for _, e := range s.cache {
		entries = append(entries, e)
	}
	s.mu.RUnlock()
	var out []twinex.APIKey
	for _, e := range entries {
		e.mu.Lock()
		if e.key.RequireHeartbeat && e.heartbeat != 0 && now.UnixNano()-e.heartbeat > int64(timeout) {
			e.heartbeat = 0
			out = append(out, e.key)
		}
		e.mu.Unlock()
	}
	return out
}
