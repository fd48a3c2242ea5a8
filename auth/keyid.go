package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"hash/crc32"
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

// A secret from NewSecret is SecretPrefix, secretBodyLen random base58
// characters (about 164 bits, the length of Gemini's observed secrets) and
// a checksum: the CRC-32 of the prefix and body in secretSumLen base58
// characters, most significant first. The prefix and checksum let secret
// scanners find leaked secrets with few false positives (CheckSecret);
// clients treat the whole string as opaque HMAC key bytes.
const (
	SecretPrefix  = "twxs_"
	secretBodyLen = 28
	secretSumLen  = 6 // 58^6 > 2^32
	// SecretLen is the length of a secret from NewSecret.
	SecretLen = len(SecretPrefix) + secretBodyLen + secretSumLen
)

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

// NewSecret returns a new API secret (see SecretPrefix) from crypto/rand.
// Clients use it as raw bytes for the HMAC key, so it is opaque; it is shown
// once and stored sealed (Sealer). The error is that of the system's random
// source.
func NewSecret() (string, error) {
	body, err := randomString(base58, secretBodyLen)
	if err != nil {
		return "", fmt.Errorf("new secret: %w", err)
	}
	return SecretPrefix + body + secretSum(SecretPrefix+body), nil
}

// CheckSecret reports whether s has the form of a secret from NewSecret
// with a correct checksum.
func CheckSecret(s string) bool {
	if len(s) != SecretLen || !strings.HasPrefix(s, SecretPrefix) {
		return false
	}
	for i := len(SecretPrefix); i < len(s); i++ {
		if strings.IndexByte(base58, s[i]) < 0 {
			return false
		}
	}
	n := len(s) - secretSumLen
	return subtle.ConstantTimeCompare([]byte(s[n:]), []byte(secretSum(s[:n]))) == 1
}

// secretSum is the checksum of a secret's prefix and body.
func secretSum(s string) string {
	v := crc32.ChecksumIEEE([]byte(s))
	out := make([]byte, secretSumLen)
	for i := secretSumLen - 1; i >= 0; i-- {
		out[i] = base58[v%58]
		v /= 58
	}
	return string(out)
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
