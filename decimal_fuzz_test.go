package twinex

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

func TestParseUnits(t *testing.T) {
	tests := []struct {
		s     string
		scale int
		want  int64
		err   error
	}{
		{"0", 8, 0, nil},
		{"0.0", 8, 0, nil},
		{"0.000000000", 2, 0, nil}, // zeros never lose precision
		{"-0", 2, 0, nil},          // zero, whatever its sign
		{"0e999", 2, 0, nil},
		{"1e-8", 8, 1, nil},
		{"1e-8", 7, 0, ErrDecimalPrecision},
		{"1E2", 0, 100, nil},
		{"1e+2", 0, 100, nil},
		{"1.5e1", 0, 15, nil},
		{"00012.3400", 2, 1234, nil},
		{"00012.3400", 4, 123400, nil},
		{"00012.3400", 1, 0, ErrDecimalPrecision},
		{".5", 1, 0, ErrDecimalSyntax}, // Gemini writes "0.5"
		{"5.", 0, 0, ErrDecimalSyntax}, // and "5"
		{"0.", 0, 0, ErrDecimalSyntax},
		{".0", 0, 0, ErrDecimalSyntax},
		{"1.e5", 0, 0, ErrDecimalSyntax},
		{"3633.12", 2, 363312, nil},
		{"0.000000000000000001", 18, 1, nil},
		{"-1", 0, 0, ErrDecimalNegative},
		{"-0.5", 1, 0, ErrDecimalNegative},
		{"+1", 0, 1, nil},
		{"1.5", 0, 0, ErrDecimalPrecision},
		{"9223372036854775807", 0, math.MaxInt64, nil},
		{"92233720368547758.07", 2, math.MaxInt64, nil},
		{"9223372036854775808", 0, 0, ErrDecimalRange},
		{"1e19", 0, 0, ErrDecimalRange},
		{"1e2", 17, 0, ErrDecimalRange},
		{"99999999999999999999", 0, 0, ErrDecimalRange},
		{"1", 19, 0, ErrDecimalRange},
		{"1", -1, 0, ErrDecimalRange},
		{"", 2, 0, ErrDecimalSyntax},
		{".", 2, 0, ErrDecimalSyntax},
		{"-", 2, 0, ErrDecimalSyntax},
		{"+", 2, 0, ErrDecimalSyntax},
		{"e5", 2, 0, ErrDecimalSyntax},
		{"1e", 2, 0, ErrDecimalSyntax},
		{"1e+", 2, 0, ErrDecimalSyntax},
		{"1e1001", 2, 0, ErrDecimalSyntax},
		{"1.2.3", 2, 0, ErrDecimalSyntax},
		{"--1", 2, 0, ErrDecimalSyntax},
		{" 1", 2, 0, ErrDecimalSyntax},
		{"1 ", 2, 0, ErrDecimalSyntax},
		{"0x10", 2, 0, ErrDecimalSyntax},
		{"abc", 2, 0, ErrDecimalSyntax},
		{"1,5", 2, 0, ErrDecimalSyntax},
		{strings.Repeat("1", 70), 0, 0, ErrDecimalSyntax},
		{"0." + strings.Repeat("0", 68), 2, 0, ErrDecimalSyntax}, // too long, even though zero
	}
	for _, tt := range tests {
		got, err := ParseUnits(tt.s, tt.scale)
		if !errors.Is(err, tt.err) || (err == nil && got != tt.want) {
			t.Errorf("ParseUnits(%q, %d) = %d, %v; want %d, %v", tt.s, tt.scale, got, err, tt.want, tt.err)
		}
	}
}

func TestFormatUnits(t *testing.T) {
	tests := []struct {
		v           int64
		scale, minD int
		want        string
	}{
		{0, 0, 0, "0"},
		{0, 2, 0, "0"},
		{5, 0, 0, "5"},
		{150, 2, 0, "1.5"},
		{100, 2, 0, "1"},
		{12, 5, 0, "0.00012"},
		{-150, 2, 0, "-1.5"},
		{-5, 3, 0, "-0.005"},
		{-7, 0, 0, "-7"},
		{math.MinInt64, 0, 0, "-9223372036854775808"},
		{math.MinInt64, 18, 0, "-9.223372036854775808"},
		{math.MaxInt64, 18, 0, "9.223372036854775807"},
		{1, 18, 0, "0.000000000000000001"},
		{3633, 0, 2, "3633.00"},
		{363300, 2, 2, "3633.00"},
		{363312, 2, 2, "3633.12"},
		{363310, 2, 2, "3633.10"},
		{5, 3, 2, "0.005"},
		{0, 2, 2, "0.00"},
		{-1, 2, 2, "-0.01"},
		{-100, 2, 2, "-1.00"},
		{1, 0, 0, "1"},
	}
	for _, tt := range tests {
		var got string
		if tt.minD == 0 {
			got = FormatUnits(tt.v, tt.scale)
		} else {
			got = FormatUnitsFixed(tt.v, tt.scale, tt.minD)
		}
		if got != tt.want {
			t.Errorf("FormatUnitsFixed(%d, %d, %d) = %q, want %q", tt.v, tt.scale, tt.minD, got, tt.want)
		}
	}
}

var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// FuzzParseUnits checks ParseUnits against math/big: it never panics,
// never returns a negative value, round-trips through FormatUnits, and on
// plain decimals succeeds exactly when the value times 10^scale is an
// integer that fits an int64.
func FuzzParseUnits(f *testing.F) {
	for _, s := range []string{
		"0", "0.0", "1e-8", "1E2", "00012.3400", ".5", "5.", "-1", "+1", "1.5",
		"9223372036854775807", "9223372036854775808", "92233720368547758.07",
		"", ".", "e5", "1e", "1e+", "abc", "-0", "0e999", "1e-1000", "1.2.3",
		strings.Repeat("9", 64), strings.Repeat("1", 70),
	} {
		f.Add(s, 8)
		f.Add(s, 0)
	}
	f.Add("3633.12", 2)
	f.Add("0.000000000000000001", 18)
	f.Add("1", 19)
	f.Fuzz(func(t *testing.T, s string, scale int) {
		v, err := ParseUnits(s, scale)
		if scale < 0 || scale > MaxScale {
			if !errors.Is(err, ErrDecimalRange) {
				t.Fatalf("ParseUnits(%q, %d) = %d, %v; want ErrDecimalRange for the scale", s, scale, v, err)
			}
			return
		}
		if err != nil {
			if v != 0 {
				t.Fatalf("ParseUnits(%q, %d) = %d with error %v; want 0", s, scale, v, err)
			}
			known := []error{ErrDecimalSyntax, ErrDecimalPrecision, ErrDecimalRange, ErrDecimalNegative}
			ok := false
			for _, k := range known {
				ok = ok || errors.Is(err, k)
			}
			if !ok {
				t.Fatalf("ParseUnits(%q, %d): unexpected error %v", s, scale, err)
			}
		} else {
			if v < 0 {
				t.Fatalf("ParseUnits(%q, %d) = %d, negative", s, scale, v)
			}
			// Formatted values are at most 19 digits, a point and 18
			// zeros, well within what ParseUnits reads.
			for _, txt := range []string{FormatUnits(v, scale), FormatUnitsFixed(v, scale, scale)} {
				if back, err := ParseUnits(txt, scale); err != nil || back != v {
					t.Fatalf("ParseUnits(%q, %d) = %d, formatted %q, which parses to %d, %v", s, scale, v, txt, back, err)
				}
			}
		}
		if len(s) > maxDecimalLen {
			if !errors.Is(err, ErrDecimalSyntax) {
				t.Fatalf("ParseUnits of %d bytes = %d, %v; want ErrDecimalSyntax", len(s), v, err)
			}
			return
		}
		if !plainDecimal.MatchString(s) {
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat cannot parse plain decimal %q", s)
		}
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
		switch {
		case !r.IsInt():
			if !errors.Is(err, ErrDecimalPrecision) {
				t.Fatalf("ParseUnits(%q, %d) = %d, %v; %s units is not whole, want ErrDecimalPrecision", s, scale, v, err, r.RatString())
			}
		case !r.Num().IsInt64():
			if !errors.Is(err, ErrDecimalRange) {
				t.Fatalf("ParseUnits(%q, %d) = %d, %v; %s units overflows, want ErrDecimalRange", s, scale, v, err, r.RatString())
			}
		default:
			if err != nil || v != r.Num().Int64() {
				t.Fatalf("ParseUnits(%q, %d) = %d, %v; want %s", s, scale, v, err, r.RatString())
			}
		}
	})
}
