package twinex

import (
	"errors"
	"math/bits"
	"strings"
)

// Int128 is a signed 128-bit integer in two's complement: the wide count of
// ledger units that balances, holds and supplies are kept in. Single order
// and trade amounts stay int64; sums of them (what an account holds, what a
// currency's supply is) need more room than int64's 9.2e18, which is only
// about $922M at USD's ledger scale of 10^-10.
//
// Int128 is a comparable value type; its zero value is 0. Arithmetic never
// allocates. Add, Sub and their int64 forms wrap on overflow like Go's
// integers do: callers keep values within bounds (the ledger's MaxSupply is
// far below the 1.7e38 that Int128 holds), and MulInt64 reports overflow.
type Int128 struct {
	hi int64  // high word, carries the sign
	lo uint64 // low word
}

// Int128 limits.
var (
	MaxInt128 = Int128{hi: 1<<63 - 1, lo: 1<<64 - 1}
	MinInt128 = Int128{hi: -1 << 63}
)

// ErrInt128Syntax and ErrInt128Range are ParseInt128's errors.
var (
	ErrInt128Syntax = errors.New("not a decimal integer")
	ErrInt128Range  = errors.New("integer out of the 128-bit range")
)

// I128 returns v as an Int128.
func I128(v int64) Int128 { return Int128{hi: v >> 63, lo: uint64(v)} }

// Add returns a+b.
func (a Int128) Add(b Int128) Int128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	return Int128{hi: a.hi + b.hi + int64(c), lo: lo}
}

// Sub returns a-b.
func (a Int128) Sub(b Int128) Int128 {
	lo, c := bits.Sub64(a.lo, b.lo, 0)
	return Int128{hi: a.hi - b.hi - int64(c), lo: lo}
}

// Add64 returns a+x.
func (a Int128) Add64(x int64) Int128 {
	lo, c := bits.Add64(a.lo, uint64(x), 0)
	return Int128{hi: a.hi + x>>63 + int64(c), lo: lo}
}

// Sub64 returns a-x.
func (a Int128) Sub64(x int64) Int128 {
	lo, c := bits.Sub64(a.lo, uint64(x), 0)
	return Int128{hi: a.hi - x>>63 - int64(c), lo: lo}
}

// Neg returns -a (MinInt128 stays itself, as with Go's integers).
func (a Int128) Neg() Int128 { return Int128{}.Sub(a) }

// Sign returns -1, 0 or +1.
func (a Int128) Sign() int {
	switch {
	case a.hi < 0:
		return -1
	case a.hi == 0 && a.lo == 0:
		return 0
	}
	return 1
}

// IsZero reports whether a is 0.
func (a Int128) IsZero() bool { return a.hi == 0 && a.lo == 0 }

// Cmp returns -1, 0 or +1 as a is less than, equal to or greater than b.
func (a Int128) Cmp(b Int128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

// Cmp64 compares a with x, like Cmp.
func (a Int128) Cmp64(x int64) int { return a.Cmp(I128(x)) }

// Less reports whether a < b.
func (a Int128) Less(b Int128) bool { return a.Cmp(b) < 0 }

// IsInt64 reports whether a fits in an int64.
func (a Int128) IsInt64() bool { return a.hi == int64(a.lo)>>63 }

// Int64 returns a as an int64, and whether it fits; when it does not, the
// result is the nearest int64 (saturated), so that displays that must be an
// int64 degrade rather than wrap.
func (a Int128) Int64() (int64, bool) {
	if a.IsInt64() {
		return int64(a.lo), true
	}
	if a.hi < 0 {
		return -1 << 63, false
	}
	return 1<<63 - 1, false
}

// abs returns |a| as an unsigned 128-bit pair (correct for MinInt128 too)
// and whether a is negative.
func (a Int128) abs() (hi, lo uint64, neg bool) {
	if a.hi < 0 {
		n := a.Neg()
		return uint64(n.hi), n.lo, true
	}
	return uint64(a.hi), a.lo, false
}

// fromAbs returns the Int128 of an unsigned magnitude and a sign, and
// whether it fits.
func fromAbs(hi, lo uint64, neg bool) (Int128, bool) {
	if neg {
		if hi > 1<<63 || hi == 1<<63 && lo != 0 {
			return Int128{}, false
		}
		return Int128{hi: int64(hi), lo: lo}.Neg(), true
	}
	if hi >= 1<<63 {
		return Int128{}, false
	}
	return Int128{hi: int64(hi), lo: lo}, true
}

// MulInt64 returns a*m, and false (with a zero result) when the product
// does not fit.
func (a Int128) MulInt64(m int64) (Int128, bool) {
	ahi, alo, neg := a.abs()
	um := uint64(m)
	if m < 0 {
		um = -um
		neg = !neg
	}
	h0, l0 := bits.Mul64(alo, um)
	h1, l1 := bits.Mul64(ahi, um)
	hi, c := bits.Add64(h0, l1, 0)
	if h1 != 0 || c != 0 {
		return Int128{}, false
	}
	return fromAbs(hi, l0, neg)
}

// QuoRem64 returns a/d truncated toward zero and the remainder (with a's
// sign), for d > 0. It panics when d <= 0.
func (a Int128) QuoRem64(d int64) (Int128, int64) {
	if d <= 0 {
		panic("twinex: Int128.QuoRem64 by a non-positive divisor")
	}
	hi, lo, neg := a.abs()
	qhi, r := hi/uint64(d), hi%uint64(d)
	qlo, r := bits.Div64(r, lo, uint64(d))
	q, _ := fromAbs(qhi, qlo, neg) // |q| <= |a|, so q fits
	if neg {
		return q, -int64(r)
	}
	return q, int64(r)
}

// String returns a's decimal form ("-12345").
func (a Int128) String() string { return string(a.AppendUnits(nil, 0, 0)) }

// MarshalText returns a's decimal form, so that JSON carries it exactly as
// a string.
func (a Int128) MarshalText() ([]byte, error) { return a.AppendUnits(nil, 0, 0), nil }

// UnmarshalText parses a decimal integer, as ParseInt128.
func (a *Int128) UnmarshalText(b []byte) error {
	v, err := ParseInt128(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ParseInt128 parses a decimal integer: an optional '-' and one or more
// digits, nothing else. It is the storage form of wide ledger values (a
// decimal text that PostgreSQL's NUMERIC holds as well), so it is strict:
// no '+', spaces, points or exponents (ErrInt128Syntax), and values outside
// [MinInt128, MaxInt128] are ErrInt128Range.
func ParseInt128(s string) (Int128, error) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg = true
		s = s[1:]
	}
	if s == "" {
		return Int128{}, ErrInt128Syntax
	}
	var hi, lo uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return Int128{}, ErrInt128Syntax
		}
		// (hi, lo) = (hi, lo)*10 + d, refusing anything past 2^128-1.
		h1, l1 := bits.Mul64(lo, 10)
		h2, l2 := bits.Mul64(hi, 10)
		if h2 != 0 {
			return Int128{}, ErrInt128Range
		}
		var c1, c2 uint64
		lo, c1 = bits.Add64(l1, uint64(c-'0'), 0)
		hi, c2 = bits.Add64(l2, h1, c1)
		if c2 != 0 {
			return Int128{}, ErrInt128Range
		}
	}
	v, ok := fromAbs(hi, lo, neg)
	if !ok {
		return Int128{}, ErrInt128Range
	}
	return v, nil
}

// AppendUnits appends a as a decimal count of 10^-scale units to b, keeping
// at least minDecimals decimal places, like the package's AppendUnits for
// int64.
func (a Int128) AppendUnits(b []byte, scale, minDecimals int) []byte {
	hi, lo, neg := a.abs()
	if neg {
		b = append(b, '-')
	}
	var buf [48]byte // 2^128 has 39 digits; scale adds leading zeros up to MaxScale+1
	n := len(buf)
	// Peel off 19 digits at a time: 10^19 is the largest power of ten that
	// fits in a uint64.
	for hi != 0 {
		var r uint64
		hi, r = hi/1e19, hi%1e19
		lo, r = bits.Div64(r, lo, 1e19)
		for i := 0; i < 19; i++ {
			n--
			buf[n] = byte('0' + r%10)
			r /= 10
		}
	}
	for lo > 0 || len(buf)-n <= scale {
		n--
		buf[n] = byte('0' + lo%10)
		lo /= 10
	}
	return appendLaidOut(b, buf[n:], scale, minDecimals)
}

// FormatUnits formats a as a count of 10^-scale units, trailing zeros after
// the point removed ("1.5", "3", "0.00012").
func (a Int128) FormatUnits(scale int) string { return string(a.AppendUnits(nil, scale, 0)) }

// appendLaidOut appends digits (at least scale+1 of them, no sign) with a
// point scale places from the end, trailing zeros removed down to
// minDecimals.
func appendLaidOut(b, digits []byte, scale, minDecimals int) []byte {
	intLen := len(digits) - scale
	b = append(b, digits[:intLen]...)
	fracPart := digits[intLen:]
	end := len(fracPart)
	for end > minDecimals && fracPart[end-1] == '0' {
		end--
	}
	if end > 0 || minDecimals > 0 {
		b = append(b, '.')
		b = append(b, fracPart[:end]...)
		for i := end; i < minDecimals; i++ {
			b = append(b, '0')
		}
	}
	return b
}

// ParseUnits128 parses a plain decimal ("-12.5", "1000000000000.00") into a
// count of 10^-scale units, exactly: more than scale decimal places is
// ErrDecimalPrecision, anything but digits with at most one point (digits
// on both sides) and a leading '-' is ErrDecimalSyntax, and a value past
// Int128 is ErrDecimalRange. It reads what AppendUnits writes.
func ParseUnits128(s string, scale int) (Int128, error) {
	if scale < 0 || scale > MaxScale {
		return Int128{}, ErrDecimalRange
	}
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	whole, frac, point := strings.Cut(digits, ".")
	if whole == "" || point && frac == "" || strings.HasPrefix(whole, "-") {
		return Int128{}, ErrDecimalSyntax
	}
	if len(frac) > scale {
		if strings.Trim(frac[scale:], "0123456789") != "" {
			return Int128{}, ErrDecimalSyntax
		}
		if strings.TrimRight(frac[scale:], "0") != "" {
			return Int128{}, ErrDecimalPrecision
		}
		frac = frac[:scale]
	}
	text := whole + frac + strings.Repeat("0", scale-len(frac))
	if neg {
		text = "-" + text
	}
	v, err := ParseInt128(text)
	switch {
	case errors.Is(err, ErrInt128Range):
		return Int128{}, ErrDecimalRange
	case err != nil:
		return Int128{}, ErrDecimalSyntax
	}
	return v, nil
}
