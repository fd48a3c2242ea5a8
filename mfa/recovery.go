package mfa

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// Recovery codes are 12 symbols of Crockford's base32 alphabet (digits
// and lowercase letters without i, l, o and u, which are easy to misread),
// shown in three groups of four: "k7m3-9qpx-2v8d". That is 60 random bits
// per code.
//
// They are stored as SHA-256 hashes, not argon2id like passwords: a slow
// hash protects guessable secrets, but a 60-bit random code cannot be found
// by brute force from its SHA-256 hash (2^60 hashes per code), so the cost
// would buy nothing and slow down every login that uses a code.
const (
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryLen      = 12
	// MaxRecoveryCodes bounds NewRecoveryCodes' n.
	MaxRecoveryCodes = 100
)

// NewRecoveryCodes returns n new random recovery codes, to show the user
// once, and their hashes, to store. The codes are distinct.
func NewRecoveryCodes(n int) (plain []string, hashes []string, err error) {
	if n < 1 || n > MaxRecoveryCodes {
		return nil, nil, fmt.Errorf("mfa: %d recovery codes: want 1 to %d", n, MaxRecoveryCodes)
	}
	seen := make(map[string]bool, n)
	for len(plain) < n {
		var buf [8]byte
		if _, err := rand.Read(buf[:]); err != nil {
			return nil, nil, fmt.Errorf("mfa: recovery codes: %w", err)
		}
		v := binary.BigEndian.Uint64(buf[:])
		var code [recoveryLen]byte
		for i := range code {
			code[i] = recoveryAlphabet[v&31]
			v >>= 5
		}
		c := string(code[:])
		if seen[c] {
			continue // 2^-60 per pair; retried so the codes are distinct for sure
		}
		seen[c] = true
		plain = append(plain, c[0:4]+"-"+c[4:8]+"-"+c[8:12])
		hashes = append(hashes, hashRecoveryCode(c))
	}
	return plain, hashes, nil
}

// UseRecoveryCode checks input, as the user typed it, against the stored
// hashes. If it matches one, it returns the other hashes, which the caller
// stores in place of hashes so that the code cannot be used again, and
// true. Otherwise it returns hashes and false. hashes is not modified.
//
// Case, dashes and spaces are ignored, and o, i and l are read as 0, 1 and
// 1 (Crockford's decoding), so a code copied by hand still works. Every
// stored hash is compared in constant time.
func UseRecoveryCode(hashes []string, input string) (remaining []string, ok bool) {
	code, valid := normalizeRecoveryCode(input)
	if !valid {
		return hashes, false
	}
	h := hashRecoveryCode(code)
	match := -1
	for i, stored := range hashes {
		if subtle.ConstantTimeCompare([]byte(h), []byte(stored)) == 1 && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return hashes, false
	}
	remaining = make([]string, 0, len(hashes)-1)
	remaining = append(remaining, hashes[:match]...)
	remaining = append(remaining, hashes[match+1:]...)
	return remaining, true
}

// normalizeRecoveryCode returns the 12 symbols of a typed code, or false if
// it is not one.
func normalizeRecoveryCode(input string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToLower(input) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r == 'o':
			r = '0'
		case r == 'i' || r == 'l':
			r = '1'
		}
		if !strings.ContainsRune(recoveryAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != recoveryLen {
		return "", false
	}
	return b.String(), true
}

// hashRecoveryCode returns the stored form of a normalized code.
func hashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}
