package auth

import (
	"bytes"
	"errors"
	"testing"
)

func newTestSealer(t *testing.T, fill byte) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{fill}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSealer(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer accepted a %d-byte key", n)
		}
	}
}

func TestSealerRoundTrip(t *testing.T) {
	s := newTestSealer(t, 1)
	for _, tt := range []struct{ plain, aad string }{
		{"29RaGpF1BNz1C21Qp3sM9L9jZniE", "account-pnBFSS0XKGvDamX4uEIt"},
		{"", "account-pnBFSS0XKGvDamX4uEIt"},
		{"totp seed", ""},
		{string(bytes.Repeat([]byte{0}, 1000)), "x"},
	} {
		sealed := s.Seal([]byte(tt.plain), []byte(tt.aad))
		if len(sealed) != len(tt.plain)+SealOverhead || sealed[0] != 1 {
			t.Fatalf("sealed %d bytes, version %d", len(sealed), sealed[0])
		}
		if tt.plain != "" && bytes.Contains(sealed, []byte(tt.plain)) {
			t.Fatal("plaintext visible in the sealed value")
		}
		got, err := s.Open(sealed, []byte(tt.aad))
		if err != nil || string(got) != tt.plain {
			t.Fatalf("Open = %q, %v; want %q", got, err, tt.plain)
		}
	}
	// Random nonces: sealing twice gives two values.
	a, b := s.Seal([]byte("x"), nil), s.Seal([]byte("x"), nil)
	if bytes.Equal(a, b) || bytes.Equal(a[1:13], b[1:13]) {
		t.Fatal("two seals share a nonce")
	}
	// nil and empty aad are the same.
	if _, err := s.Open(a, []byte{}); err != nil {
		t.Fatalf("empty aad: %v", err)
	}
}

func TestSealerRefuses(t *testing.T) {
	s := newTestSealer(t, 1)
	secret, aad := []byte("29RaGpF1BNz1C21Qp3sM9L9jZniE"), []byte("account-AAAAAAAAAAAAAAAAAAAA")
	sealed := s.Seal(secret, aad)

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name   string
		s      *Sealer
		sealed []byte
		aad    []byte
		want   error
	}{
		{"copied to another row", s, sealed, []byte("account-BBBBBBBBBBBBBBBBBBBB"), ErrOpen},
		{"no aad", s, sealed, nil, ErrOpen},
		{"aad prefix", s, sealed, aad[:len(aad)-1], ErrOpen},
		{"wrong key", newTestSealer(t, 2), sealed, aad, ErrOpen},
		{"nonce tampered", s, flip(1), aad, ErrOpen},
		{"ciphertext tampered", s, flip(1 + 12 + 3), aad, ErrOpen},
		{"tag tampered", s, flip(len(sealed) - 1), aad, ErrOpen},
		{"truncated", s, sealed[:len(sealed)-1], aad, ErrOpen},
		{"extended", s, append(bytes.Clone(sealed), 0), aad, ErrOpen},
		{"shorter than the overhead", s, sealed[:SealOverhead-1], aad, ErrOpen},
		{"version only", s, sealed[:1], aad, ErrOpen},
		{"empty", s, nil, aad, ErrOpen},
		{"unknown version", s, append([]byte{2}, sealed[1:]...), aad, ErrSealVersion},
		{"version zero", s, flip(0), aad, ErrSealVersion},
	}
	for _, tt := range tests {
		got, err := tt.s.Open(tt.sealed, tt.aad)
		if !errors.Is(err, tt.want) || got != nil {
			t.Errorf("%s: Open = %q, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func BenchmarkSealerOpen(b *testing.B) {
	s, _ := NewSealer(make([]byte, MasterKeySize))
	sealed := s.Seal([]byte("29RaGpF1BNz1C21Qp3sM9L9jZniE"), []byte("account-pnBFSS0XKGvDamX4uEIt"))
	for b.Loop() {
		if _, err := s.Open(sealed, []byte("account-pnBFSS0XKGvDamX4uEIt")); err != nil {
			b.Fatal(err)
		}
	}
}
