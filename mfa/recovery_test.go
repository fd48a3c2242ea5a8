package mfa

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestNewRecoveryCodes(t *testing.T) {
	plain, hashes, err := NewRecoveryCodes(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 10 || len(hashes) != 10 {
		t.Fatalf("%d codes, %d hashes", len(plain), len(hashes))
	}
	format := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`)
	seen := map[string]bool{}
	for i, c := range plain {
		if !format.MatchString(c) {
			t.Errorf("code %q", c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
		sum := sha256.Sum256([]byte(strings.ReplaceAll(c, "-", "")))
		if hashes[i] != hex.EncodeToString(sum[:]) {
			t.Errorf("hash of %q is %q", c, hashes[i])
		}
		if strings.Contains(hashes[i], strings.ReplaceAll(c, "-", "")) {
			t.Errorf("hash holds the code")
		}
	}
	for _, n := range []int{0, -1, MaxRecoveryCodes + 1} {
		if _, _, err := NewRecoveryCodes(n); err == nil {
			t.Errorf("NewRecoveryCodes(%d): no error", n)
		}
	}
}

func TestRecoveryCodesSpread(t *testing.T) {
	// Every symbol of the alphabet turns up in every position: the codes
	// use all 60 bits.
	plain, _, err := NewRecoveryCodes(MaxRecoveryCodes)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 9; i++ {
		more, _, err := NewRecoveryCodes(MaxRecoveryCodes)
		if err != nil {
			t.Fatal(err)
		}
		plain = append(plain, more...)
	}
	for pos := 0; pos < 14; pos++ {
		if pos == 4 || pos == 9 {
			continue
		}
		counts := map[byte]int{}
		for _, c := range plain {
			counts[c[pos]]++
		}
		if len(counts) != len(recoveryAlphabet) {
			t.Errorf("position %d: %d distinct symbols in %d codes", pos, len(counts), len(plain))
		}
	}
}

func TestUseRecoveryCode(t *testing.T) {
	plain, hashes, err := NewRecoveryCodes(10)
	if err != nil {
		t.Fatal(err)
	}
	orig := slices.Clone(hashes)

	remaining, ok := UseRecoveryCode(hashes, plain[3])
	if !ok || len(remaining) != 9 || slices.Contains(remaining, hashes[3]) {
		t.Fatalf("first use: ok %v, %d left", ok, len(remaining))
	}
	if !slices.Equal(hashes, orig) {
		t.Error("UseRecoveryCode modified its argument")
	}
	// Single use: the code is gone from what the caller stores.
	if again, ok := UseRecoveryCode(remaining, plain[3]); ok || !slices.Equal(again, remaining) {
		t.Errorf("second use: ok %v, %d left", ok, len(again))
	}

	// Every code works once, in any order, typed loosely.
	c := plain[0]
	loose := []string{
		strings.ToUpper(c),
		strings.ReplaceAll(c, "-", ""),
		strings.ReplaceAll(c, "-", " "),
		"  " + c + " ",
		strings.NewReplacer("0", "o", "1", "l").Replace(c),
	}
	for _, in := range loose {
		if _, ok := UseRecoveryCode(remaining, in); !ok {
			t.Errorf("loose form %q of %q refused", in, c)
		}
	}
	for i, c := range plain {
		if i == 3 {
			continue
		}
		if remaining, ok = UseRecoveryCode(remaining, c); !ok {
			t.Errorf("code %d refused", i)
		}
	}
	if len(remaining) != 0 {
		t.Errorf("%d hashes left", len(remaining))
	}

	// Malformed input is refused before it is hashed.
	for _, bad := range []string{"", "k7m3-9qpx-2v8", "k7m3-9qpx-2v8dd", "k7m3-9qpx-2v8u", "k7m3_9qpx_2v8d", "k7m3-9qpx-2v8é", hashes[0]} {
		if n, ok := normalizeRecoveryCode(bad); ok {
			t.Errorf("%q read as %q", bad, n)
		}
	}
	if n, ok := normalizeRecoveryCode(" K7M3-9QPX-2V8D "); !ok || n != "k7m39qpx2v8d" {
		t.Errorf("normalized %q, %v", n, ok)
	}
}
