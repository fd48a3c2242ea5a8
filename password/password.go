// Package password hashes and checks account passwords with argon2id, in
// the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so
// that parameters can be raised later without breaking stored hashes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Parameters of new hashes: OWASP's recommended argon2id configuration
// (19 MiB, 2 passes, 1 lane).
const (
	memoryKiB = 19 * 1024
	passes    = 2
	lanes     = 1
	saltLen   = 16
	keyLen    = 32
)

// Length bounds of a password, in characters.
const (
	MinLength = 10
	MaxLength = 256
)

// ErrMismatch is returned by Verify for a wrong password.
var ErrMismatch = errors.New("password: mismatch")

// ErrCommon is returned by Check and CheckFor for a password on the list of
// common passwords, which attackers try first. Its text is for the user.
var ErrCommon = errors.New("the password is too common: choose one that is harder to guess")

// ErrContainsEmail is returned by CheckFor for a password that contains
// the account's email address or its local part. Its text is for the user.
var ErrContainsEmail = errors.New("the password must not contain your email address")

// Check reports why a password is unacceptable, or nil: it is not valid
// UTF-8, has fewer than MinLength or more than MaxLength characters, or is
// common (ErrCommon). The error's text is meant for the user.
func Check(pw string) error {
	return CheckFor(pw, "")
}

// CheckFor is Check for the account with the given email address: it also
// refuses a password that contains the address's local part
// (ErrContainsEmail). An empty email skips that rule.
func CheckFor(pw, email string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return errors.New("the password is not valid text")
	case n < MinLength:
		return fmt.Errorf("the password must have at least %d characters", MinLength)
	case n > MaxLength:
		return fmt.Errorf("the password must have at most %d characters", MaxLength)
	case isCommon(pw):
		return ErrCommon
	case containsEmail(pw, email):
		return ErrContainsEmail
	}
	return nil
}

// Hash returns the encoded argon2id hash of pw with a fresh random salt.
func Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, passes, memoryKiB, lanes, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks pw against an encoded hash in constant time. It returns
// ErrMismatch for a wrong password and another error for a malformed hash.
func Verify(encoded, pw string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("password: not an argon2id hash")
	}
	var version int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("password: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 64 {
		return errors.New("password: bad argon2 parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return errors.New("password: bad salt")
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return errors.New("password: bad hash")
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
