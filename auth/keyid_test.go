package auth

import (
	"strings"
	"testing"
)

func TestNewKeyID(t *testing.T) {
	for _, master := range []bool{false, true} {
		seen := map[string]bool{}
		for range 200 {
			id, err := NewKeyID(master)
			if err != nil {
				t.Fatal(err)
			}
			prefix := AccountKeyPrefix
			if master {
				prefix = MasterKeyPrefix
			}
			if !strings.HasPrefix(id, prefix) || len(id) != len(prefix)+KeyIDLen {
				t.Fatalf("NewKeyID(%v) = %q", master, id)
			}
			if !ValidKeyID(id) || IsMasterKeyID(id) != master {
				t.Fatalf("ValidKeyID/IsMasterKeyID(%q) disagree with NewKeyID(%v)", id, master)
			}
			// ccxt refuses keys without "account" (reference §1.5).
			if !master && !strings.Contains(id, "account") {
				t.Fatalf("%q lacks \"account\"", id)
			}
			if seen[id] {
				t.Fatalf("duplicate %q", id)
			}
			seen[id] = true
		}
	}
}

func TestValidKeyID(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"account-pnBFSS0XKGvDamX4uEIt", true},
		{"master-pnBFSS0XKGvDamX4uEIt", true},
		{"account-pnBFSS0XKGvDamX4uEI", false},   // 19
		{"account-pnBFSS0XKGvDamX4uEItx", false}, // 21
		{"wujB3szN54gtJ4QDhqRJ", false},          // legacy, no prefix
		{"Account-pnBFSS0XKGvDamX4uEIt", false},
		{"account_pnBFSS0XKGvDamX4uEIt", false},
		{"account-pnBFSS0XKGvDamX4uE-t", false},
		{"account-pnBFSS0XKGvDamX4uE t", false},
		{"account-pnBFSS0XKGvDamX4uEé", false},
		{"account-", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidKeyID(tt.s); got != tt.want {
			t.Errorf("ValidKeyID(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != SecretLen {
			t.Fatalf("NewSecret() = %q, want %d characters", s, SecretLen)
		}
		for _, c := range strings.TrimPrefix(s, SecretPrefix) {
			if !strings.ContainsRune(base58, c) {
				t.Fatalf("NewSecret() = %q has %q", s, c)
			}
		}
		if !CheckSecret(s) {
			t.Fatalf("CheckSecret(%q) = false", s)
		}
		// Any one changed character breaks the checksum.
		for i := len(SecretPrefix); i < len(s); i++ {
			b := []byte(s)
			b[i] = base58[(strings.IndexByte(base58, b[i])+1)%len(base58)]
			if CheckSecret(string(b)) {
				t.Fatalf("CheckSecret accepts %q, %q with character %d changed", string(b), s, i)
			}
		}
		if seen[s] {
			t.Fatalf("duplicate %q", s)
		}
		seen[s] = true
	}
}

// TestRandomStringUniform checks that every character of each alphabet
// turns up with about the same frequency: a modulo bias on 62 characters
// would make the first 8 about 25% more frequent than the rest.
func TestRandomStringUniform(t *testing.T) {
	for _, alphabet := range []string{alphanumerics, base58} {
		const n = 200_000
		s, err := randomString(alphabet, n)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[rune]int{}
		for _, c := range s {
			counts[c]++
		}
		if len(counts) != len(alphabet) {
			t.Fatalf("%d distinct characters, want %d", len(counts), len(alphabet))
		}
		want := float64(n) / float64(len(alphabet))
		for c, got := range counts {
			// Binomial standard deviation is about sqrt(want) ~ 57; allow 8.
			if d := float64(got) - want; d > 8*57 || d < -8*57 {
				t.Errorf("%q appears %d times, want about %.0f", c, got, want)
			}
		}
	}
}
