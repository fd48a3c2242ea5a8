package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strconv"
)

// sealVersion is the first byte of every sealed value: AES-256-GCM under
// the master key with a random 12-byte nonce. A new format (another
// cipher, a key id for rotation) gets a new version, and Open keeps reading
// the old ones.
const sealVersion byte = 1

const (
	gcmNonceSize = 12
	gcmTagSize   = 16
)

// SealOverhead is how many bytes Seal adds to a plaintext: the version
// byte, the nonce and the GCM tag.
const SealOverhead = 1 + gcmNonceSize + gcmTagSize

// ErrOpen is returned by Open for a sealed value that does not
// authenticate: corrupted, truncated, sealed under another key, or sealed
// with other associated data (copied from another row).
var ErrOpen = errors.New("sealed value does not authenticate")

// ErrSealVersion is wrapped by Open's error for a value of an unknown
// format version.
var ErrSealVersion = errors.New("unknown sealed value version")

// Sealer encrypts secrets at rest (API secrets, TOTP seeds) with
// AES-256-GCM. It is safe for concurrent use.
//
// Nonces are random, so one master key should seal fewer than 2^32 values
// (NIST's bound for random GCM nonces), which no Twinex deployment nears.
type Sealer struct {
	aead  cipher.AEAD
	fpKey []byte // HMAC key of Fingerprint, derived from the master key
}

// NewSealer returns a Sealer for a 32-byte key from LoadMasterKey; any
// other length is an error.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != MasterKeySize {
		return nil, errors.New("sealer: key must be " + strconv.Itoa(MasterKeySize) + " bytes, not " + strconv.Itoa(len(key)))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	fpKey, err := hkdf.Key(sha256.New, key, nil, "twinex secret fingerprint v1", 32)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead, fpKey: fpKey}, nil
}

// Fingerprint is a keyed hash (HMAC-SHA256 under a key derived from the
// master key) of a secret: stored beside a key, it finds the key from its
// secret without keeping anything an offline guess could be checked
// against.
func (s *Sealer) Fingerprint(secret []byte) []byte {
	m := hmac.New(sha256.New, s.fpKey)
	m.Write(secret)
	return m.Sum(nil)
}

// Seal encrypts plaintext and returns version byte || 12-byte random nonce
// || ciphertext and tag, len(plaintext)+SealOverhead bytes. aad is
// authenticated but not stored: callers pass what identifies the row (the
// key id of an API secret), and Open must be given the same aad, so a
// sealed value copied to another row does not open. The version byte is
// authenticated too.
func (s *Sealer) Seal(plaintext, aad []byte) []byte {
	out := make([]byte, 1+gcmNonceSize, len(plaintext)+SealOverhead)
	out[0] = sealVersion
	rand.Read(out[1:]) // never fails (crypto/rand, Go 1.24+)
	return s.aead.Seal(out, out[1:], plaintext, withVersion(sealVersion, aad))
}

// Open decrypts a value from Seal given the same aad. It returns an error
// wrapping ErrSealVersion for an unknown version byte, and ErrOpen for
// anything that does not authenticate.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, ErrOpen
	}
	if sealed[0] != sealVersion {
		return nil, errors.Join(ErrSealVersion, errors.New("version "+strconv.Itoa(int(sealed[0]))))
	}
	if len(sealed) < SealOverhead {
		return nil, ErrOpen
	}
	nonce, box := sealed[1:1+gcmNonceSize], sealed[1+gcmNonceSize:]
	plain, err := s.aead.Open(nil, nonce, box, withVersion(sealed[0], aad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// withVersion returns version || aad, the data GCM authenticates.
func withVersion(v byte, aad []byte) []byte {
	b := make([]byte, 0, 1+len(aad))
	return append(append(b, v), aad...)
}
