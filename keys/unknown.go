package keys

// The negative cache of key ids the store does not hold.

import (
	"context"
	"fmt"
	"time"
)

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
