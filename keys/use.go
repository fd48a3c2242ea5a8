package keys

// A key's uses: nonces, replay marks, flushing uses to the store, and the
// heartbeat clocks.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
)

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
