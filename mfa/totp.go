package mfa

import (
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	qrcode "github.com/skip2/go-qrcode"
)

// The TOTP parameters are the authenticator-app defaults (RFC 6238 with
// HMAC-SHA1, 6 digits, 30-second steps): Google Authenticator and others
// ignore the algorithm, digits and period of an otpauth URL, so any other
// choice would make some apps show wrong codes.
const (
	// Period is the length of a TOTP time step, in seconds.
	Period = 30
	// Digits is the length of a TOTP code.
	Digits = 6
	// Skew is how many time steps before and after the current one a code
	// may belong to, for clocks that are a little off and codes typed near
	// the end of their step.
	Skew = 1
	// secretSize is the size of a new secret in bytes: 160 bits, the size
	// of an HMAC-SHA1 output, as RFC 4226 recommends.
	secretSize = 20
	// qrSize is the width and height of the QR code image, in pixels.
	qrSize = 256
)

// ErrInvalidCode is returned by Verify for a code that is not the code of
// the secret at any accepted time step, or is not 6 digits.
var ErrInvalidCode = errors.New("mfa: invalid code")

// ErrReused is returned by Verify for a code that is right but whose time
// step is not after the last accepted one: it was used before, or a later
// code was.
var ErrReused = errors.New("mfa: code already used")

// Enrollment is a new TOTP secret and the two ways to give it to an
// authenticator app.
type Enrollment struct {
	// Secret is the base32 secret (no padding). Callers seal it before
	// storing it, and show it for manual entry.
	Secret string
	// URL is the otpauth://totp/ key URI the QR code encodes.
	URL string
	// QR is a PNG image of the QR code of URL, qrSize pixels square.
	QR []byte
}

// NewSecret returns a random 160-bit TOTP secret for account (the user's
// email) at issuer (the site name shown in the app), with its otpauth URL
// and QR code. Neither issuer nor account may be empty or contain a colon,
// which separates them in the URL's label.
func NewSecret(issuer, account string) (Enrollment, error) {
	return enroll(issuer, account, nil)
}

// Enroll returns the Enrollment of an existing base32 secret (as NewSecret
// returned it), to show an unconfirmed enrolment again.
func Enroll(issuer, account, secret string) (Enrollment, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || len(raw) == 0 {
		return Enrollment{}, errors.New("mfa: malformed secret")
	}
	return enroll(issuer, account, raw)
}

func enroll(issuer, account string, raw []byte) (Enrollment, error) {
	if strings.Contains(issuer, ":") || strings.Contains(account, ":") {
		return Enrollment{}, errors.New("mfa: issuer and account must not contain a colon")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      Period,
		SecretSize:  secretSize,
		Secret:      raw,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: new secret: %w", err)
	}
	png, err := qrcode.Encode(key.URL(), qrcode.Medium, qrSize)
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: qr code: %w", err)
	}
	return Enrollment{Secret: key.Secret(), URL: key.URL(), QR: png}, nil
}

// QRDataURI returns png as a data: URI for an <img src>, so that the QR
// code (which holds the secret) is sent in the enrolment page itself and
// never from a URL that could be cached or fetched again.
func QRDataURI(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// Step returns the TOTP time step of t.
func Step(t time.Time) int64 {
	s := t.Unix()
	// Floor division, so that times before 1970 do not share step 0.
	if s < 0 {
		return (s - Period + 1) / Period
	}
	return s / Period
}

// Verify checks code, as the user typed it (spaces are ignored), against
// the base32 secret at now, accepting the codes of Skew steps on either
// side. lastStep is the step Verify returned for the account's last
// accepted code (0 if none): a code of that step or an earlier one is
// refused with ErrReused, so that a code cannot be used twice, even within
// its own 30 seconds (RFC 6238 §5.2). On success it returns the step of the
// code, which the caller must store as the new lastStep before acting on
// the code.
//
// It returns ErrInvalidCode for a wrong or malformed code, ErrReused for a
// replayed one, and another error for a malformed secret.
func Verify(secret, code string, now time.Time, lastStep int64) (step int64, err error) {
	code = normalizeCode(code)
	if secret == "" {
		return 0, errors.New("mfa: empty secret")
	}
	opts := hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	// Every step of the window is computed and compared, whatever the
	// input, so that the time taken tells nothing about which step (if
	// any) matched.
	cur := Step(now)
	var fresh, used int64 = -1, -1
	for s := cur - Skew; s <= cur+Skew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), opts)
		if err != nil {
			return 0, fmt.Errorf("mfa: bad secret: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(code), []byte(want)) != 1 {
			continue
		}
		// The earliest fresh step is kept: it leaves the most room for the
		// account's next code.
		if s > lastStep && fresh < 0 {
			fresh = s
		} else if s <= lastStep {
			used = s
		}
	}
	switch {
	case len(code) != Digits:
		// Checked after the loop, which compares a wrong-length code to
		// nothing, to keep one code path for every input.
		return 0, ErrInvalidCode
	case fresh >= 0:
		return fresh, nil
	case used >= 0:
		return 0, ErrReused
	}
	return 0, ErrInvalidCode
}

// normalizeCode strips whitespace from a typed code ("123 456") and
// returns "" if anything else but ASCII digits is left.
func normalizeCode(code string) string {
	var b strings.Builder
	for _, r := range code {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0':
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return ""
		}
	}
	return b.String()
}
