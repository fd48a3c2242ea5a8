package twinex

import (
	"errors"
	"math/bits"
	"strconv"
)

// Sentinel errors of ParseUnits. Callers turn them into the Gemini reason of
// the field they parse (InvalidPrice, InvalidQuantity, ...).
var (
	ErrDecimalSyntax    = errors.New("not a decimal number")
	ErrDecimalPrecision = errors.New("more decimal places than allowed")
	ErrDecimalRange     = errors.New("number out of range")
	ErrDecimalNegative  = errors.New("negative number")
)

// MaxScale is the largest number of decimal places a unit may have.
const MaxScale = 18

// maxDecimalLen bounds the text ParseUnits looks at, so that absurd inputs
// are refused before any work is done.
const maxDecimalLen = 64

var pow10 = [...]int64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
}

// Pow10 returns 10^n for 0 <= n <= 18.
func Pow10(n int) int64 { return pow10[n] }

// ParseUnits parses a non-negative decimal such as "3633.12", "0.5", "1E-8"
// or "12" into an integer count of 10^-scale units. It accepts the forms of
// Gemini's decimal strings and of JSON numbers (an exponent is allowed; a
// point needs digits on both sides: ".5" and "1." are ErrDecimalSyntax). It
// never rounds: a value with more decimal places than scale (other than
// trailing zeros) gives ErrDecimalPrecision; one that does not fit in an
// int64 gives ErrDecimalRange; a leading minus gives ErrDecimalNegative.
func ParseUnits(s string, scale int) (int64, error) { // long: one pass over the decimal grammar; its steps share the digit state
	if scale < 0 || scale > MaxScale {
		return 0, ErrDecimalRange
	}
	if len(s) == 0 || len(s) > maxDecimalLen {
		return 0, ErrDecimalSyntax
	}
	i := 0
	neg := false
	if s[0] == '-' {
		neg = true
		i++
	} else if s[0] == '+' {
		i++
	}
	// Mantissa: digits, optionally one '.' with digits on both sides, as
	// JSON numbers and Gemini's decimal strings spell it ("0.5", never ".5"
	// or "1."), so that a typo such as "1." is refused, not guessed at.
	var digits [maxDecimalLen]byte
	whole := 0 // digits before the point
	nd := 0    // significant digits kept (leading zeros dropped)
	frac := 0  // digits after the point
	seen := false
	point := false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			seen = true
			if point {
				frac++
			} else {
				whole++
			}
			if nd == 0 && c == '0' {
				continue
			}
			digits[nd] = c - '0'
			nd++
		case c == '.' && !point:
			point = true
		default:
			goto exponent
		}
	}
exponent:
	if !seen || point && (whole == 0 || frac == 0) {
		return 0, ErrDecimalSyntax
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return 0, ErrDecimalSyntax
		}
		i++
		e, err := strconv.Atoi(s[i:])
		if err != nil || s[i:] == "" || e < -1000 || e > 1000 {
			return 0, ErrDecimalSyntax
		}
		exp = e
	}
	if nd == 0 {
		return 0, nil // zero, whatever its sign or exponent
	}
	if neg {
		return 0, ErrDecimalNegative
	}
	// value = digits * 10^(exp - frac); in units: digits * 10^(exp - frac + scale).
	shift := exp - frac + scale
	if shift < 0 {
		// The last -shift digits must be zero.
		drop := -shift
		if drop > nd {
			return 0, ErrDecimalPrecision
		}
		for _, d := range digits[nd-drop : nd] {
			if d != 0 {
				return 0, ErrDecimalPrecision
			}
		}
		nd -= drop
		shift = 0
	}
	if nd+shift > 19 {
		return 0, ErrDecimalRange
	}
	var v uint64
	for _, d := range digits[:nd] {
		v = v*10 + uint64(d)
	}
	for ; shift > 0; shift-- {
		v *= 10
	}
	// 19 digits fit in a uint64; int64 needs the explicit bound.
	if v > 1<<63-1 {
		return 0, ErrDecimalRange
	}
	return int64(v), nil
}

// FormatUnits formats an integer count of 10^-scale units as a decimal
// string with trailing zeros after the point removed ("1.5", "3", "0.00012").
func FormatUnits(v int64, scale int) string {
	return string(AppendUnits(nil, v, scale, 0))
}

// FormatUnitsFixed is FormatUnits that keeps at least minDecimals places
// ("3633.00" for a USD price with minDecimals 2).
func FormatUnitsFixed(v int64, scale, minDecimals int) string {
	return string(AppendUnits(nil, v, scale, minDecimals))
}

// AppendUnits appends the decimal form of v (10^-scale units) to b, keeping
// at least minDecimals decimal places.
func AppendUnits(b []byte, v int64, scale, minDecimals int) []byte {
	u := uint64(v)
	if v < 0 {
		b = append(b, '-')
		u = uint64(-v) // correct for MinInt64 too, as a uint64
	}
	var buf [40]byte
	n := len(buf)
	for u > 0 || len(buf)-n <= scale {
		n--
		buf[n] = byte('0' + u%10)
		u /= 10
	}
	return appendLaidOut(b, buf[n:], scale, minDecimals)
}

// FormatQuotient formats (num/den) * 10^-scale, both non-negative, with
// the exact digits up to maxDecimals places (truncated beyond), trailing
// zeros removed down to minDecimals. It is how average prices are shown:
// a notional divided by an amount.
func FormatQuotient(num, den int64, scale, minDecimals, maxDecimals int) string {
	if den <= 0 || num < 0 {
		return "0"
	}
	q, r := uint64(num)/uint64(den), uint64(num)%uint64(den)
	// Integer digits of q at the given scale, then long division for more.
	// The value is (num/den) * 10^-scale, so maxDecimals places need
	// maxDecimals-scale digits of the quotient beyond its integer part.
	if maxDecimals < scale {
		maxDecimals = scale
	}
	b := AppendUnits(nil, int64(q), 0, 0)
	digits := append(make([]byte, 0, len(b)+maxDecimals+1), b...)
	for len(digits) < maxDecimals+1 { // room for the integer digit
		digits = append([]byte{'0'}, digits...)
	}
	extra := maxDecimals - scale
	for i := 0; i < extra; i++ {
		hi, lo := bits.Mul64(r, 10)
		d, rem := bits.Div64(hi, lo, uint64(den))
		digits = append(digits, byte('0'+d))
		r = rem
	}
	// digits holds the value times 10^(extra) in units of 10^-scale; the
	// decimal point sits maxDecimals from the end.
	intPart := digits[:len(digits)-maxDecimals]
	fracPart := digits[len(digits)-maxDecimals:]
	for len(intPart) > 1 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	end := len(fracPart)
	for end > minDecimals && fracPart[end-1] == '0' {
		end--
	}
	out := string(intPart)
	if end > 0 {
		out += "." + string(fracPart[:end])
	}
	return out
}
