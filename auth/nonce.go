package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
)

// MaxNonceLen bounds a nonce: both the text the client sent (inside the
// JSON string quotes, if any) and its canonical form (String). Real nonces
// are at most 19 digits (nanoseconds) or about 20 characters (decimal
// seconds), so 100 leaves ample room while refusing absurd input before
// any work is done.
const MaxNonceLen = 100

// maxNonceRaw bounds the raw JSON before it is unquoted: a JSON string may
// spell each character as a six-byte \uXXXX escape.
const maxNonceRaw = 6*MaxNonceLen + 2

// maxExponentDigits bounds the exponent of a nonce such as "1.7e18": any
// exponent of five or more digits would make the canonical form far longer
// than MaxNonceLen (or is zero padded, "1e00001", which nobody sends).
const maxExponentDigits = 4

// TimeWindow is how far a time-based nonce may be from the server's clock,
// either way (reference §1.4). The bounds are inclusive.
const TimeWindow = 30 * time.Second

// Nonce is a non-negative decimal number of any size and precision, as sent
// in a payload's "nonce" field: epoch milliseconds ("1795648307705"),
// nanoseconds (1700000000123456789) or decimal seconds (1700000000.123).
//
// It is held as its canonical decimal text, so comparing two nonces is a
// string comparison: no float64, no big.Int allocation per request. The
// zero Nonce is the number 0.
type Nonce struct {
	canon string // canonical form, "" for the zero Nonce (which is 0)
	dot   int    // index of '.' in canon, or len(canon) when there is none
	text  string // the nonce as the client sent it
}

// ParseNonce parses the raw JSON value of a payload's "nonce" field. It
// accepts a JSON string or a JSON number holding a non-negative decimal:
// digits, optionally a '.' followed by digits, optionally an exponent
// ('e' or 'E', an optional sign, at most four digits). The grammar is the
// same inside a string and for a number, and leading zeros are accepted
// ("007" is 7; JSON numbers cannot have them, so only strings do in
// practice). Exponents are accepted because JSON encoders write large
// floats that way (Python writes 1.7e18 as "1.7e+18"); the value is taken
// exactly, never through float64. Inside a string, JSON escapes are decoded
// first, and no surrounding spaces are allowed.
//
// It refuses, with reason InvalidNonce: anything but a string or number
// (null, true, objects, arrays), an empty string, a negative number (even
// -0), text that is not a decimal (".5", "5.", "0x10", "1_000", "NaN",
// "Infinity"), and a nonce whose text or canonical form is longer than
// MaxNonceLen (so "1e99" is accepted, "1e100" and "1e400" are not). Callers
// report a missing "nonce" key as MissingNonce before calling ParseNonce.
// The message does not echo malformed input; the cause in Err does, for the
// operator's log.
func ParseNonce(raw json.RawMessage) (Nonce, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Nonce{}, nonceError("Nonce must be a JSON string or number", errors.New("empty value"))
	}
	if len(raw) > maxNonceRaw {
		return Nonce{}, nonceTooLong()
	}
	var text string
	switch c := raw[0]; {
	case c == '"':
		if inner := raw[1:]; len(inner) > 0 && bytes.IndexAny(inner, "\\\"") == len(inner)-1 {
			// Fast path: no escapes, the only quote is the closing one.
			// Control characters stay in text, and parseDecimal refuses them.
			text = string(inner[:len(inner)-1])
		} else if err := json.Unmarshal(raw, &text); err != nil {
			return Nonce{}, nonceError("Nonce must be a JSON string or number", err)
		}
		if text == "" {
			return Nonce{}, nonceError("Nonce is empty", errors.New("empty string"))
		}
	case c == '-' || c >= '0' && c <= '9':
		text = string(raw)
	default:
		return Nonce{}, nonceError("Nonce must be a JSON string or number", errors.New("value is not a string or number: "+truncate(string(raw), 20)))
	}
	if len(text) > MaxNonceLen {
		return Nonce{}, nonceTooLong()
	}
	n, err := parseDecimal(text)
	if err != nil {
		return Nonce{}, err
	}
	n.text = text
	return n, nil
}

// errBadDecimal is the cause of a syntax error, for the log.
var errBadDecimal = errors.New("not a decimal number")

// parseDecimal parses s (at most MaxNonceLen bytes) per ParseNonce's
// grammar into canonical form; it leaves text unset.
func parseDecimal(s string) (Nonce, error) { // long: one pass over the nonce grammar; its steps share the digit state
	if s[0] == '-' {
		return Nonce{}, nonceError("Nonce must not be negative", errors.New("negative: "+truncate(s, 20)))
	}
	bad := func() (Nonce, error) {
		return Nonce{}, nonceError("Nonce must be a non-negative decimal number", errors.Join(errBadDecimal, errors.New(strconv.Quote(truncate(s, 20)))))
	}
	i := 0
	digitsFrom := func(i int) int {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	j := digitsFrom(i)
	if j == i {
		return bad()
	}
	intPart := s[i:j]
	fracPart := ""
	i = j
	if i < len(s) && s[i] == '.' {
		j = digitsFrom(i + 1)
		if j == i+1 {
			return bad()
		}
		fracPart = s[i+1 : j]
		i = j
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		j = digitsFrom(i)
		if j == i {
			return bad()
		}
		if j-i > maxExponentDigits {
			return Nonce{}, nonceTooLong()
		}
		exp, _ = strconv.Atoi(s[i:j]) // at most 4 digits: cannot fail
		if neg {
			exp = -exp
		}
		i = j
	}
	if i != len(s) {
		return bad()
	}

	// The value is digits × 10^-scale.
	digits := strings.TrimLeft(intPart+fracPart, "0")
	scale := len(fracPart) - exp
	if digits == "" {
		return Nonce{}, nil // zero, however it was spelt
	}
	for scale > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		scale--
	}
	var canon string
	switch {
	case scale <= 0:
		if len(digits)-scale > MaxNonceLen {
			return Nonce{}, nonceTooLong()
		}
		canon = digits + strings.Repeat("0", -scale)
	case scale < len(digits):
		canon = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	default:
		if 2+scale > MaxNonceLen {
			return Nonce{}, nonceTooLong()
		}
		canon = "0." + strings.Repeat("0", scale-len(digits)) + digits
	}
	if len(canon) > MaxNonceLen {
		return Nonce{}, nonceTooLong()
	}
	return newCanon(canon), nil
}

// newCanon makes a Nonce from a canonical form.
func newCanon(canon string) Nonce {
	dot := strings.IndexByte(canon, '.')
	if dot < 0 {
		dot = len(canon)
	}
	return Nonce{canon: canon, dot: dot, text: canon}
}

// parts returns the integer digits (no leading zeros, "0" for zero) and the
// fraction digits (no trailing zeros, possibly empty).
func (n Nonce) parts() (string, string) {
	if n.canon == "" {
		return "0", ""
	}
	if n.dot == len(n.canon) {
		return n.canon, ""
	}
	return n.canon[:n.dot], n.canon[n.dot+1:]
}

// Cmp compares n and m as numbers: -1 if n < m, 0 if they are equal
// (1.50 equals 1.5; 1e3 equals 1000), +1 if n > m.
func (n Nonce) Cmp(m Nonce) int {
	ni, nf := n.parts()
	mi, mf := m.parts()
	// Integer parts have no leading zeros: the longer is larger.
	if c := len(ni) - len(mi); c != 0 {
		if c < 0 {
			return -1
		}
		return 1
	}
	if c := strings.Compare(ni, mi); c != 0 {
		return c
	}
	// Fractions have no trailing zeros, so plain string order is numeric
	// order ("5" < "51" < "6").
	return strings.Compare(nf, mf)
}

// String returns the canonical form, for storage: no exponent, no leading
// zeros, no trailing zeros after the point, no point when the value is an
// integer ("0", "1795648307705", "1700000000.12", "0.0015"). ParseNonce of
// a JSON string holding it returns an equal Nonce, and so does
// ParseNonce(json.RawMessage(n.String())).
func (n Nonce) String() string {
	if n.canon == "" {
		return "0"
	}
	return n.canon
}

// Text returns the nonce as the client sent it (the contents of the JSON
// string, or the JSON number), which is what Gemini's messages quote. For a
// Nonce not made by ParseNonce it is the canonical form.
func (n Nonce) Text() string {
	if n.text == "" {
		return n.String()
	}
	return n.text
}

// CheckTimeBased checks a nonce of a key that uses time-based nonces: n, in
// seconds since the Unix epoch (decimals allowed), must be within
// TimeWindow of now, bounds included and compared at nanosecond precision.
// Millisecond nonces therefore fail, as they do on Gemini. Ordering is not
// checked, so parallel requests work; so do replays within the window,
// which is what Gemini allows too. Otherwise it returns a *twinex.Error
// with reason InvalidNonce and Gemini's message, whose doubled closing
// quote is Gemini's:
//
//	Nonce '1695066299324' is not within 30 seconds of server time '1695066301''
func (n Nonce) CheckTimeBased(now time.Time) error {
	lo, hi := timeNonce(now.Add(-TimeWindow)), timeNonce(now.Add(TimeWindow))
	if n.Cmp(lo) >= 0 && n.Cmp(hi) <= 0 {
		return nil
	}
	return twinex.Errorf(twinex.InvalidNonce, "Nonce '%s' is not within %d seconds of server time '%d''",
		n.Text(), int(TimeWindow/time.Second), now.Unix())
}

// Increasing checks a nonce of a key that uses session nonces: n must be
// strictly greater than last, the key's last accepted nonce. Otherwise it
// returns a *twinex.Error with reason InvalidNonce and Gemini's message:
//
//	Nonce '1490722675108' has not increased since your last call to the Gemini API.
//
// The zero Nonce is 0, so it can stand for "no call yet" (only a nonce of 0
// fails against it).
func (n Nonce) Increasing(last Nonce) error {
	if n.Cmp(last) > 0 {
		return nil
	}
	return twinex.Errorf(twinex.InvalidNonce, "Nonce '%s' has not increased since your last call to the Gemini API.", n.Text())
}

// NonceLead is how far ahead of the current time in nanoseconds a session
// nonce may be (see Plausible).
const NonceLead = 24 * time.Hour

// Plausible checks a session nonce before it can become the key's
// high-water mark: it must be at most the current Unix time in
// nanoseconds plus NonceLead. Every real client's nonce is below that: a
// counter, or the time in seconds, milliseconds, microseconds or
// nanoseconds. A larger one ("1e99") is a mistake or an attack that would
// lock the key out for good, since no later nonce could exceed it.
// Otherwise it returns a *twinex.Error with reason InvalidNonce.
func (n Nonce) Plausible(now time.Time) error {
	limit := newCanon(strconv.FormatInt(now.Add(NonceLead).UnixNano(), 10))
	if n.Cmp(limit) <= 0 {
		return nil
	}
	return &twinex.Error{Reason: twinex.InvalidNonce,
		Message: fmt.Sprintf("Nonce '%s' is too large: a nonce must not exceed the current time in nanoseconds (%d)", truncate(n.Text(), 40), now.UnixNano()),
		Err:     errors.New("nonce beyond the current time in nanoseconds")}
}

// timeNonce returns t in decimal seconds since the epoch; times before the
// epoch give 0, the smallest nonce.
func timeNonce(t time.Time) Nonce {
	sec := t.Unix()
	if sec < 0 {
		return Nonce{}
	}
	s := strconv.FormatInt(sec, 10)
	if ns := t.Nanosecond(); ns != 0 {
		frac := strconv.Itoa(1e9 + ns)[1:] // nine digits, leading zeros kept
		s += "." + strings.TrimRight(frac, "0")
	}
	if s == "0" {
		return Nonce{}
	}
	return newCanon(s)
}

func nonceTooLong() error {
	return nonceError("Nonce is longer than "+strconv.Itoa(MaxNonceLen)+" characters", errors.New("nonce too long"))
}

func nonceError(msg string, cause error) error {
	return &twinex.Error{Reason: twinex.InvalidNonce, Message: msg, Err: cause}
}

// truncate shortens s for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
