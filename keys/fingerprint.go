package keys

// Secret fingerprints: finding the key of a reported secret.

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/twinex/twinex"
)

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
