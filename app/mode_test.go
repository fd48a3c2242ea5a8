package app

import (
	"net/netip"
	"testing"
)

func TestCheckProduction(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	for _, c := range []struct {
		listen  string
		trusted []netip.Prefix
		ok      bool
	}{
		{"127.0.0.1:8080", nil, true},
		{"[::1]:8080", nil, true},
		{"localhost:8080", nil, true},
		{"0.0.0.0:8080", nil, false},
		{":8080", nil, false},
		{"192.0.2.10:443", nil, false},
		{"0.0.0.0:8080", proxy, true},
		{"nonsense", nil, false},
	} {
		if err := checkProduction(c.listen, c.trusted); (err == nil) != c.ok {
			t.Errorf("checkProduction(%q, %v) = %v", c.listen, c.trusted, err)
		}
	}
	for in, want := range map[string]Mode{"": Sandbox, "SANDBOX": Sandbox, "production": Production} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("staging"); err == nil {
		t.Error("ParseMode accepted staging")
	}
}
