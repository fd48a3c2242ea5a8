package twinex

import (
	"encoding/json"
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"
)

// The tests compare Int128 with math/big on values around the edges where
// two-word arithmetic goes wrong: 0, ±1, ±2^63, ±2^64, ±2^127 and their
// neighbours, plus seeded random words.

var (
	big2_127    = new(big.Int).Lsh(big.NewInt(1), 127)
	bigMaxInt   = new(big.Int).Sub(big2_127, big.NewInt(1))
	bigMinInt   = new(big.Int).Neg(big2_127)
	bigTwo64    = new(big.Int).Lsh(big.NewInt(1), 64)
	bigMaskLo64 = new(big.Int).Sub(bigTwo64, big.NewInt(1))
)

func toBig(a Int128) *big.Int {
	v := new(big.Int).Lsh(big.NewInt(a.hi), 64)
	return v.Add(v, new(big.Int).SetUint64(a.lo))
}

// fromBig returns v as an Int128, and whether it fits.
func fromBig(v *big.Int) (Int128, bool) {
	if v.Cmp(bigMaxInt) > 0 || v.Cmp(bigMinInt) < 0 {
		return Int128{}, false
	}
	lo := new(big.Int).And(v, bigMaskLo64) // two's complement low word
	hi := new(big.Int).Rsh(v, 64)          // arithmetic shift: floor
	return Int128{hi: hi.Int64(), lo: lo.Uint64()}, true
}

// wrapBig reduces v to the 128-bit two's complement range, as Go wraps.
func wrapBig(v *big.Int) *big.Int {
	m := new(big.Int).Lsh(big.NewInt(1), 128)
	r := new(big.Int).Mod(v, m)
	if r.Cmp(bigMaxInt) > 0 {
		r.Sub(r, m)
	}
	return r
}

func edgeValues() []Int128 {
	var out []Int128
	for _, base := range []*big.Int{
		big.NewInt(0),
		new(big.Int).Lsh(big.NewInt(1), 63),
		new(big.Int).Lsh(big.NewInt(1), 64),
		new(big.Int).Lsh(big.NewInt(1), 126),
		big2_127,
		new(big.Int).Exp(big.NewInt(10), big.NewInt(19), nil),
		new(big.Int).Exp(big.NewInt(10), big.NewInt(36), nil),
	} {
		for d := int64(-2); d <= 2; d++ {
			for _, s := range []int64{1, -1} {
				v := new(big.Int).Add(base, big.NewInt(d))
				v.Mul(v, big.NewInt(s))
				if x, ok := fromBig(v); ok {
					out = append(out, x)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		out = append(out, Int128{hi: int64(rng.Uint64()), lo: rng.Uint64()})
		out = append(out, Int128{hi: int64(rng.Uint64()) >> rng.IntN(64), lo: rng.Uint64()})
		out = append(out, I128(int64(rng.Uint64())))
	}
	return out
}

func edgeInt64s() []int64 {
	return []int64{0, 1, -1, 2, -2, 10, 1e18, -1e18, 1<<62 + 3, 1<<63 - 1, -1 << 63, -1<<63 + 1, 1 << 32, -(1 << 32)}
}

func TestInt128MatchesBig(t *testing.T) {
	vals := edgeValues()
	for _, a := range vals {
		ba := toBig(a)
		if got, _ := fromBig(ba); got != a {
			t.Fatalf("round trip through big of %v", a)
		}
		if got, want := a.String(), ba.String(); got != want {
			t.Fatalf("String(%v) = %s, want %s", ba, got, want)
		}
		p, err := ParseInt128(ba.String())
		if err != nil || p != a {
			t.Fatalf("ParseInt128(%s) = %v, %v", ba, toBig(p), err)
		}
		if got, want := a.Sign(), ba.Sign(); got != want {
			t.Fatalf("Sign(%v) = %d, want %d", ba, got, want)
		}
		if got, want := a.IsInt64(), ba.IsInt64(); got != want {
			t.Fatalf("IsInt64(%v) = %v", ba, got)
		}
		if v, ok := a.Int64(); ok != ba.IsInt64() || ok && v != ba.Int64() {
			t.Fatalf("Int64(%v) = %d, %v", ba, v, ok)
		}
		if got, want := toBig(a.Neg()), wrapBig(new(big.Int).Neg(ba)); got.Cmp(want) != 0 {
			t.Fatalf("Neg(%v) = %v, want %v", ba, got, want)
		}
		for _, b := range vals[:60] {
			bb := toBig(b)
			if got, want := toBig(a.Add(b)), wrapBig(new(big.Int).Add(ba, bb)); got.Cmp(want) != 0 {
				t.Fatalf("%v + %v = %v, want %v", ba, bb, got, want)
			}
			if got, want := toBig(a.Sub(b)), wrapBig(new(big.Int).Sub(ba, bb)); got.Cmp(want) != 0 {
				t.Fatalf("%v - %v = %v, want %v", ba, bb, got, want)
			}
			if got, want := a.Cmp(b), ba.Cmp(bb); got != want {
				t.Fatalf("Cmp(%v, %v) = %d, want %d", ba, bb, got, want)
			}
			if got, want := a.Less(b), ba.Cmp(bb) < 0; got != want {
				t.Fatalf("Less(%v, %v) = %v", ba, bb, got)
			}
		}
		for _, x := range edgeInt64s() {
			bx := big.NewInt(x)
			if got, want := toBig(a.Add64(x)), wrapBig(new(big.Int).Add(ba, bx)); got.Cmp(want) != 0 {
				t.Fatalf("%v + %d = %v, want %v", ba, x, got, want)
			}
			if got, want := toBig(a.Sub64(x)), wrapBig(new(big.Int).Sub(ba, bx)); got.Cmp(want) != 0 {
				t.Fatalf("%v - %d = %v, want %v", ba, x, got, want)
			}
			if got, want := a.Cmp64(x), ba.Cmp(bx); got != want {
				t.Fatalf("Cmp64(%v, %d) = %d", ba, x, got)
			}
			prod := new(big.Int).Mul(ba, bx)
			want, fits := fromBig(prod)
			got, ok := a.MulInt64(x)
			if ok != fits || got != want {
				t.Fatalf("%v * %d = %v, %v; want %v, %v", ba, x, toBig(got), ok, prod, fits)
			}
			if x > 0 {
				q, r := a.QuoRem64(x)
				bq, br := new(big.Int).QuoRem(ba, bx, new(big.Int))
				if toBig(q).Cmp(wrapBig(bq)) != 0 || r != br.Int64() {
					t.Fatalf("%v / %d = %v r %d, want %v r %v", ba, x, toBig(q), r, bq, br)
				}
			}
		}
	}
}

func TestInt128FormatUnits(t *testing.T) {
	tests := []struct {
		v     string
		scale int
		min   int
		want  string
	}{
		{"0", 0, 0, "0"},
		{"0", 10, 0, "0"},
		{"0", 10, 2, "0.00"},
		{"15", 1, 0, "1.5"},
		{"-15", 1, 0, "-1.5"},
		{"5", 10, 0, "0.0000000005"},
		{"-5", 18, 0, "-0.000000000000000005"},
		{"9223372036854775807", 10, 0, "922337203.6854775807"},
		{"9223372036854775808", 10, 0, "922337203.6854775808"},
		{"18446744073709551616", 10, 2, "1844674407.3709551616"},
		{"10000000000000000000000", 10, 2, "1000000000000.00"},
		{"10000000000000000000000", 10, 0, "1000000000000"},
		{"12345678901234567890123456789", 18, 0, "12345678901.234567890123456789"},
		{"170141183460469231731687303715884105727", 0, 0, "170141183460469231731687303715884105727"},
		{"-170141183460469231731687303715884105728", 18, 0, "-170141183460469231731.687303715884105728"},
		{"100000000000000000000", 18, 8, "100.00000000"},
	}
	for _, tc := range tests {
		v, err := ParseInt128(tc.v)
		if err != nil {
			t.Fatalf("ParseInt128(%s): %v", tc.v, err)
		}
		if got := string(v.AppendUnits(nil, tc.scale, tc.min)); got != tc.want {
			t.Errorf("%s at scale %d, min %d = %s, want %s", tc.v, tc.scale, tc.min, got, tc.want)
		}
	}
	// Within the int64 range the wide form is the narrow one.
	for _, x := range edgeInt64s() {
		for scale := 0; scale <= MaxScale; scale++ {
			if got, want := I128(x).FormatUnits(scale), FormatUnits(x, scale); got != want {
				t.Fatalf("%d at scale %d: %s, want %s", x, scale, got, want)
			}
		}
	}
}

func TestParseInt128Refuses(t *testing.T) {
	for _, s := range []string{"", "-", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "--1", "1-", "١"} {
		if _, err := ParseInt128(s); !errors.Is(err, ErrInt128Syntax) {
			t.Errorf("ParseInt128(%q) = %v, want ErrInt128Syntax", s, err)
		}
	}
	for _, s := range []string{
		"170141183460469231731687303715884105728",  // 2^127
		"-170141183460469231731687303715884105729", // -2^127-1
		"340282366920938463463374607431768211456",  // 2^128
		"1000000000000000000000000000000000000000000000",
	} {
		if _, err := ParseInt128(s); !errors.Is(err, ErrInt128Range) {
			t.Errorf("ParseInt128(%q) = %v, want ErrInt128Range", s, err)
		}
	}
	for _, s := range []string{"007", "-0", "0"} {
		if _, err := ParseInt128(s); err != nil {
			t.Errorf("ParseInt128(%q): %v", s, err)
		}
	}
	if MaxInt128.String() != bigMaxInt.String() || MinInt128.String() != bigMinInt.String() {
		t.Fatalf("limits: %s %s", MaxInt128, MinInt128)
	}
}

func TestInt128JSON(t *testing.T) {
	v, _ := ParseInt128("-123456789012345678901234567890")
	b, err := json.Marshal(struct{ V Int128 }{v})
	if err != nil || string(b) != `{"V":"-123456789012345678901234567890"}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var back struct{ V Int128 }
	if err := json.Unmarshal(b, &back); err != nil || back.V != v {
		t.Fatalf("unmarshal: %v, %v", back.V, err)
	}
}

func TestInt128DoesNotAllocate(t *testing.T) {
	a, b := I128(1<<62), Int128{hi: 3, lo: 7}
	var buf [64]byte
	n := testing.AllocsPerRun(100, func() {
		c := a.Add(b).Sub64(5).Add64(-9)
		c, _ = c.MulInt64(-3)
		_ = c.Cmp(b)
		_ = c.AppendUnits(buf[:0], 10, 2)
	})
	if n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func FuzzInt128(f *testing.F) {
	f.Add(int64(0), uint64(0), int64(0), uint64(0), int64(0))
	f.Add(int64(-1), uint64(1<<63), int64(0), uint64(1<<64-1), int64(-1<<63))
	f.Add(int64(1<<63-1), uint64(1<<64-1), int64(-1<<63), uint64(0), int64(10))
	f.Fuzz(func(t *testing.T, ahi int64, alo uint64, bhi int64, blo uint64, m int64) {
		a, b := Int128{ahi, alo}, Int128{bhi, blo}
		ba, bb := toBig(a), toBig(b)
		if toBig(a.Add(b)).Cmp(wrapBig(new(big.Int).Add(ba, bb))) != 0 {
			t.Fatalf("add %v %v", ba, bb)
		}
		if toBig(a.Sub(b)).Cmp(wrapBig(new(big.Int).Sub(ba, bb))) != 0 {
			t.Fatalf("sub %v %v", ba, bb)
		}
		if a.Cmp(b) != ba.Cmp(bb) {
			t.Fatalf("cmp %v %v", ba, bb)
		}
		want, fits := fromBig(new(big.Int).Mul(ba, big.NewInt(m)))
		if got, ok := a.MulInt64(m); ok != fits || got != want {
			t.Fatalf("mul %v %d", ba, m)
		}
		if p, err := ParseInt128(a.String()); err != nil || p != a || a.String() != ba.String() {
			t.Fatalf("string %v: %s", ba, a.String())
		}
	})
}

func TestParseUnits128(t *testing.T) {
	for _, tc := range []struct {
		s     string
		scale int
		want  string
		err   error
	}{
		{"0", 10, "0", nil},
		{"12.5", 1, "125", nil},
		{"-12.5", 2, "-1250", nil},
		{"1000000000000.00", 10, "10000000000000000000000", nil},
		{"922337203.6854775808", 10, "9223372036854775808", nil},
		{"1.50", 1, "15", nil},
		{"1.55", 1, "", ErrDecimalPrecision},
		{"1.", 1, "", ErrDecimalSyntax},
		{".5", 1, "", ErrDecimalSyntax},
		{"1e5", 1, "", ErrDecimalSyntax},
		{"--1", 1, "", ErrDecimalSyntax},
		{"1.2.3", 5, "", ErrDecimalSyntax},
		{"1.5x0", 1, "", ErrDecimalSyntax},
		{"170141183460469231731687303715884105728", 0, "", ErrDecimalRange},
		{"17014118346046923173168730371588410572.8", 1, "", ErrDecimalRange},
	} {
		v, err := ParseUnits128(tc.s, tc.scale)
		if !errors.Is(err, tc.err) || err == nil && v.String() != tc.want {
			t.Errorf("ParseUnits128(%q, %d) = %v, %v; want %s, %v", tc.s, tc.scale, v, err, tc.want, tc.err)
		}
		if err == nil {
			if back, _ := ParseUnits128(v.FormatUnits(tc.scale), tc.scale); back != v {
				t.Errorf("%v does not round-trip through FormatUnits", v)
			}
		}
	}
}
