package password

import (
	"errors"
	"strings"
	"testing"
)

func TestHashAndVerify(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if err := Verify(h, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := Verify(h, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	h2, _ := Hash("correct horse battery")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=0,t=2,p=1$AAAA$AAAA", "$bcrypt$x", "$argon2id$v=18$m=8,t=1,p=1$AAAA$AAAA", h + "$"} {
		if err := Verify(bad, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("malformed hash %q: %v", bad, err)
		}
	}
}

func TestCheck(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                     false,
		"exactly10!":                true,
		"ünïcödé-pässwörd":          true,
		strings.Repeat("x", 256):    true,
		strings.Repeat("x", 257):    false,
		"bad\xffutf8-password-text": false,
	} {
		if err := Check(pw); (err == nil) != ok {
			t.Errorf("Check(%q) = %v", pw, err)
		}
	}
}
