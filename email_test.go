package twinex

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEmail(t *testing.T) {
	for in, want := range map[string]string{
		" Ann@Example.COM ": "ann@example.com",
		"a.b+c@x.io":        "a.b+c@x.io",
		"root@localhost":    "root@localhost",
	} {
		if got, err := ParseEmail(in); err != nil || got != want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "   ", "ann", "ann@", "@x.io", "ann@x", "ann@.x.io", "ann@x.io.",
		"Ann <ann@x.io>", "ann@x.io (work)", "ann\ufffd@x.io", "ann@x\ufffd.io", "an\x00n@x.io",
		"ann\u200e@x.io", "ann@x.io\xff", strings.Repeat("a", 250) + "@x.io",
	} {
		if got, err := ParseEmail(in); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("ParseEmail(%q) = %q, %v; want ErrInvalidEmail", in, got, err)
		}
	}
}
