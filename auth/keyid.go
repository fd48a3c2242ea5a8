package auth

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Key id prefixes (reference §1.5). ccxt refuses any key without the
// substring "account", so account keys must keep this prefix.
const (
	AccountKeyPrefix = "account-"
	MasterKeyPrefix  = "master-"
)

// KeyIDLen is the number of alphanumerics after the prefix of a key id, as
// in Gemini's account-pnBFSS0XKGvDamX4uEIt (reference §7).
const KeyIDLen = 20

// SecretLen is the length of a secret from NewSecret: 28 base58 characters,
// like Gemini's observed secrets, which is about 164 bits.
const SecretLen = 28

const (
	alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// base58 is Bitcoin's alphabet: no 0, O, I or l to confuse.
	base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
)

// NewKeyID returns a new public API key id: "master-" (master is true) or
// "account-" followed by KeyIDLen random alphanumerics from crypto/rand.
// The error is that of the system's random source.
func NewKeyID(master bool) (string, error) {
	s, err := randomString(alphanumerics, KeyIDLen)
	if err != nil {
		return "", fmt.Errorf("new key id: %w", err)
	}
	if master {
		return MasterKeyPrefix + s, nil
	}
	return AccountKeyPrefix + s, nil
}

// ValidKeyID reports whether s has the shape of a key id from NewKeyID, so
// that the HTTP layer can answer garbage in X-GEMINI-APIKEY without a store
// lookup. Legacy Gemini keys without a prefix are not valid: Twinex never
// issues them.
func ValidKeyID(s string) bool {
	rest, ok := strings.CutPrefix(s, AccountKeyPrefix)
	if !ok {
		if rest, ok = strings.CutPrefix(s, MasterKeyPrefix); !ok {
			return false
		}
	}
	if len(rest) != KeyIDLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(alphanumerics, rest[i]) < 0 {
			return false
		}
	}
	return true
}

// IsMasterKeyID reports whether the key id s names a master key.
func IsMasterKeyID(s string) bool { return strings.HasPrefix(s, MasterKeyPrefix) }

// NewSecret returns a new API secret: SecretLen random base58 characters
// from crypto/rand. Clients use it as raw bytes for the HMAC key, so it is
// opaque; it is shown once and stored sealed (Sealer). The error is that of
// the system's random source.
func NewSecret() (string, error) {
	s, err := randomString(base58, SecretLen)
	if err != nil {
		return "", fmt.Errorf("new secret: %w", err)
	}
	return s, nil
}

// randomString returns n characters drawn uniformly from alphabet (at most
// 256 characters), rejecting the random bytes that would bias a modulo.
func randomString(alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet) // bytes below limit map uniformly
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
