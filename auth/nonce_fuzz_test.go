package auth

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

// FuzzParseNonce checks that ParseNonce never panics, that String
// round-trips, and that Cmp agrees with big.Rat on the canonical forms.
func FuzzParseNonce(f *testing.F) {
	for _, s := range []string{
		`"1795648307705"`, `1795648348918`, `1700000000123456789`, `1700000000.123`,
		`1.7e+18`, `"1e3"`, `0`, `"007"`, `-1`, `"abc"`, `1e400`, `0.0015`, `null`,
		`"\u0031"`, `1e99`, `1e-98`, `"1.50"`,
	} {
		f.Add([]byte(s), []byte(`1795648307705`))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		na, errA := ParseNonce(json.RawMessage(a))
		nb, errB := ParseNonce(json.RawMessage(b))
		for _, n := range []struct {
			n   Nonce
			err error
		}{{na, errA}, {nb, errB}} {
			if n.err != nil {
				continue
			}
			s := n.n.String()
			if len(s) > MaxNonceLen {
				t.Fatalf("String %q longer than %d", s, MaxNonceLen)
			}
			if strings.ContainsAny(s, "eE+-") || (strings.Contains(s, ".") && strings.HasSuffix(s, "0")) ||
				(len(s) > 1 && s[0] == '0' && s[1] != '.') {
				t.Fatalf("String %q is not canonical", s)
			}
			m, err := ParseNonce(json.RawMessage(s))
			if err != nil || m.String() != s || m.Cmp(n.n) != 0 {
				t.Fatalf("round trip of %q: %v, %v", s, m, err)
			}
		}
		if errA != nil || errB != nil {
			return
		}
		ra, ok1 := new(big.Rat).SetString(na.String())
		rb, ok2 := new(big.Rat).SetString(nb.String())
		if !ok1 || !ok2 {
			t.Fatalf("big.Rat cannot read %q or %q", na, nb)
		}
		if got, want := na.Cmp(nb), ra.Cmp(rb); got != want {
			t.Fatalf("%q Cmp %q = %d, big.Rat says %d", na, nb, got, want)
		}
		// The value is the one the client sent, read exactly.
		if rt, ok := new(big.Rat).SetString(na.Text()); ok && rt.Cmp(ra) != 0 {
			t.Fatalf("Text %q = %v but String %q", na.Text(), rt, na)
		}
	})
}
