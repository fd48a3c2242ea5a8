package password

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCommonList(t *testing.T) {
	set := commonSet()
	if len(set) < 300 {
		t.Fatalf("%d common passwords", len(set))
	}
	seen := map[string]bool{}
	for i, line := range strings.Split(commonText, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// Entries shorter than MinLength would never be reached: the length
		// rule refuses them first.
		if utf8.RuneCountInString(line) < MinLength {
			t.Errorf("line %d: %q is shorter than %d", i+1, line, MinLength)
		}
		if line != strings.ToLower(line) || line != strings.TrimSpace(line) {
			t.Errorf("line %d: %q is not lowercase and trimmed", i+1, line)
		}
		if seen[line] {
			t.Errorf("line %d: %q twice", i+1, line)
		}
		seen[line] = true
		// Every entry is refused, which also checks the parsing.
		if err := Check(line); !errors.Is(err, ErrCommon) {
			t.Errorf("Check(%q) = %v, want ErrCommon", line, err)
		}
	}
}

func TestCheckCommon(t *testing.T) {
	for pw, common := range map[string]bool{
		"password123":                  true,
		"Password123":                  true,
		"PASSWORD123":                  true,
		"123456789a":                   true,
		"1234567890":                   true,
		"qwertyuiop":                   true,
		"QwertyUiop":                   true,
		"qwertyuiop2024!":              true, // a listed password plus digits and punctuation
		"1qaz2wsx3edc":                 true,
		"iloveyou123":                  true,
		"letmein123":                   true,
		"welcome2024":                  true,
		"qwertyuiop xyz":               false,
		"xqwertyuiop":                  false,
		"password":                     false, // too short, and refused for that
		"correct horse battery":        false,
		"tangerine-ostrich-47":         false,
		"Summer of '69 in Lisbon":      false,
		strings.Repeat("x", MaxLength): false,
	} {
		err := Check(pw)
		if common != errors.Is(err, ErrCommon) {
			t.Errorf("Check(%q) = %v, common %v", pw, err, common)
		}
	}
	if err := Check("password"); err == nil || errors.Is(err, ErrCommon) {
		t.Errorf("short common password: %v, want the length error", err)
	}
}

func TestCheckFor(t *testing.T) {
	for _, tc := range []struct {
		pw, email string
		want      error
	}{
		{"alice.smith", "alice.smith@example.com", ErrContainsEmail},
		{"Alice.Smith!", "alice.smith@example.com", ErrContainsEmail},
		{"my alice.smith pass", "Alice.Smith@example.com", ErrContainsEmail},
		{"alicesmith2024", "alice.smith@example.com", ErrContainsEmail},
		{"alice.smith@example.com", "alice.smith@example.com", ErrContainsEmail},
		{"trader-joe-77!", "trader+twinex@example.com", ErrContainsEmail},
		{"kiwi bicycle lantern", "alice.smith@example.com", nil},
		{"alice in chains forever", "alice.smith@example.com", nil}, // "alice" alone is not the local part
		{"albatross fishing", "al@example.com", nil},                // local parts under 4 characters are ignored
		{"kiwi bicycle lantern", "", nil},
		{"kiwi bicycle lantern", "not-an-address", nil},
		{"not-an-address!", "not-an-address", ErrContainsEmail},
		{"password123", "bob@example.com", ErrCommon},
	} {
		if err := CheckFor(tc.pw, tc.email); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckFor(%q, %q) = %v, want %v", tc.pw, tc.email, err, tc.want)
		}
	}
	// Check is CheckFor without an address.
	if err := Check("alice.smith"); err != nil {
		t.Errorf("Check: %v", err)
	}
	// The length rules come first.
	if err := CheckFor("alice", "alice@example.com"); err == nil || errors.Is(err, ErrContainsEmail) {
		t.Errorf("short password: %v", err)
	}
}
