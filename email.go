package twinex

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxEmailLen bounds an email address, in bytes (RFC 5321's path limit).
const MaxEmailLen = 254

// ErrInvalidEmail is wrapped by ParseEmail's errors.
var ErrInvalidEmail = errors.New("invalid email address")

// ParseEmail checks an email address as users type it and returns its
// stored form: trimmed and in lower case. It is the one rule for emails,
// used by sign-up, the dashboard, the admin API and the sandbox.
//
// It accepts a bare address ("name@example.com", no display name or
// comments) of at most MaxEmailLen bytes whose domain has a dot (or is
// "localhost"), and refuses invalid UTF-8, the replacement character
// U+FFFD (the mark of text that was damaged on its way), and control or
// other unprintable characters. Errors wrap ErrInvalidEmail.
func ParseEmail(raw string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "" {
		return "", errors.Join(ErrInvalidEmail, errors.New("empty"))
	}
	if len(e) > MaxEmailLen {
		return "", errors.Join(ErrInvalidEmail, errors.New("too long"))
	}
	if !utf8.ValidString(e) {
		return "", errors.Join(ErrInvalidEmail, errors.New("not UTF-8"))
	}
	for _, c := range e {
		if c == utf8.RuneError || !unicode.IsPrint(c) {
			return "", errors.Join(ErrInvalidEmail, errors.New("unprintable character"))
		}
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", errors.Join(ErrInvalidEmail, errors.New("not a bare address"))
	}
	local, domain, _ := strings.Cut(e, "@")
	if local == "" || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		!strings.Contains(domain, ".") && domain != "localhost" {
		return "", errors.Join(ErrInvalidEmail, errors.New("bad domain"))
	}
	return e, nil
}
