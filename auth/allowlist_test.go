package auth

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseAllowlist(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		want    []string // canonical; nil with wantErr
		wantErr string   // substring of the error: the bad entry
	}{
		{"none", nil, nil, ""},
		{"empty slice", []string{}, nil, ""},
		{"IPv4 address", []string{"10.0.0.5"}, []string{"10.0.0.5/32"}, ""},
		{"IPv4 CIDR", []string{"10.0.0.0/24"}, []string{"10.0.0.0/24"}, ""},
		{"IPv6 address", []string{"2001:db8::1"}, []string{"2001:db8::1/128"}, ""},
		{"IPv6 long form", []string{"2001:0db8:0000:0000:0000:0000:0000:0001"}, []string{"2001:db8::1/128"}, ""},
		{"IPv6 CIDR", []string{"2001:db8::/32"}, []string{"2001:db8::/32"}, ""},
		{"mapped address", []string{"::ffff:10.0.0.5"}, []string{"10.0.0.5/32"}, ""},
		{"mapped CIDR", []string{"::ffff:10.0.0.0/120"}, []string{"10.0.0.0/24"}, ""},
		{"mapped /8", []string{"::ffff:10.0.0.0/104"}, []string{"10.0.0.0/8"}, ""},
		{"mapped all of IPv4", []string{"::ffff:0.0.0.0/96"}, nil, `covers all of IPv4; write "0.0.0.0/0"`},
		{"mapped half of IPv4", []string{"::ffff:0.0.0.0/97"}, nil, `covers 1/2 of IPv4; write "0.0.0.0/1"`},
		{"spaces trimmed", []string{"  10.0.0.5 ", "\t10.1.0.0/16"}, []string{"10.0.0.5/32", "10.1.0.0/16"}, ""},
		{"duplicates dropped, order kept", []string{"10.0.0.5", "1.2.3.4", "10.0.0.5/32", "::ffff:10.0.0.5"}, []string{"10.0.0.5/32", "1.2.3.4/32"}, ""},
		{"everything IPv4", []string{"0.0.0.0/0"}, []string{"0.0.0.0/0"}, ""},

		{"host bits set", []string{"10.0.0.5/24"}, nil, `did you mean "10.0.0.0/24"`},
		{"IPv6 host bits set", []string{"2001:db8::1/32"}, nil, `"2001:db8::/32"`},
		{"garbage", []string{"10.0.0.5", "not-an-ip"}, nil, `"not-an-ip"`},
		{"hostname", []string{"example.com"}, nil, `"example.com"`},
		{"empty entry", []string{"10.0.0.5", " "}, nil, "empty"},
		{"octet out of range", []string{"10.0.0.256"}, nil, `"10.0.0.256"`},
		{"leading zero octet", []string{"010.0.0.1"}, nil, `"010.0.0.1"`},
		{"prefix too long", []string{"10.0.0.0/33"}, nil, `"10.0.0.0/33"`},
		{"zone", []string{"fe80::1%eth0"}, nil, "zone"},
		{"with port", []string{"10.0.0.5:80"}, nil, `"10.0.0.5:80"`},
		{"range syntax", []string{"10.0.0.1-10.0.0.9"}, nil, `"10.0.0.1-10.0.0.9"`},
		{"too many", slices.Repeat([]string{"10.0.0.1"}, MaxAllowlistEntries+1), nil, "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseAllowlist(tt.entries)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAllowlist(%q) = %v, %v; want error containing %q", tt.entries, l.Strings(), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAllowlist(%q): %v", tt.entries, err)
			}
			if got := l.Strings(); !slices.Equal(got, tt.want) {
				t.Fatalf("Strings() = %q, want %q", got, tt.want)
			}
			if l.Empty() != (len(tt.want) == 0) {
				t.Errorf("Empty() = %v", l.Empty())
			}
			// Canonical forms parse back to the same list.
			l2, err := ParseAllowlist(l.Strings())
			if err != nil || !slices.Equal(l2.Strings(), l.Strings()) {
				t.Errorf("round trip: %q, %v", l2.Strings(), err)
			}
		})
	}
	// Exactly the maximum is fine.
	many := make([]string, MaxAllowlistEntries)
	for i := range many {
		many[i] = "10.0.0." + strconv.Itoa(i)
	}
	if _, err := ParseAllowlist(many); err != nil {
		t.Errorf("%d entries: %v", len(many), err)
	}
}

func TestAllowlistAllows(t *testing.T) {
	list, err := ParseAllowlist([]string{"10.0.0.5", "192.168.1.0/24", "2001:db8::/32", "fe80::1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string // "" is the invalid netip.Addr
		want bool
	}{
		{"10.0.0.5", true},
		{"10.0.0.6", false},
		{"10.0.0.4", false},
		{"192.168.1.0", true},
		{"192.168.1.255", true},
		{"192.168.2.1", false},
		{"::ffff:10.0.0.5", true},     // dual-stack listener's view of an IPv4 peer
		{"::ffff:192.168.1.77", true}, // same, in the range
		{"::ffff:10.0.0.6", false},
		{"::10.0.0.5", false}, // IPv4-compatible (deprecated), not mapped
		{"2001:db8::1", true},
		{"2001:db8:ffff::1", true},
		{"2001:db9::1", false},
		{"fe80::1", true},
		{"fe80::1%eth0", true}, // zone ignored
		{"fe80::2", false},
		{"127.0.0.1", false},
		{"::1", false},
		{"", false},
	}
	for _, tt := range tests {
		var a netip.Addr
		if tt.addr != "" {
			a = netip.MustParseAddr(tt.addr)
		}
		if got := list.Allows(a); got != tt.want {
			t.Errorf("Allows(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}

	// An empty list allows anything, even an unknown address.
	var empty Allowlist
	for _, s := range []string{"10.0.0.5", "::1", "::ffff:1.2.3.4"} {
		if !empty.Allows(netip.MustParseAddr(s)) {
			t.Errorf("empty list refuses %s", s)
		}
	}
	if !empty.Allows(netip.Addr{}) {
		t.Error("empty list refuses the invalid address")
	}

	// IPv6 ranges never match IPv4 clients, nor IPv4 ranges IPv6 ones.
	v6all, _ := ParseAllowlist([]string{"::/0"})
	if v6all.Allows(netip.MustParseAddr("10.0.0.5")) || v6all.Allows(netip.MustParseAddr("::ffff:10.0.0.5")) {
		t.Error("::/0 allows an IPv4 client")
	}
	v4all, _ := ParseAllowlist([]string{"0.0.0.0/0"})
	if v4all.Allows(netip.MustParseAddr("2001:db8::1")) || !v4all.Allows(netip.MustParseAddr("::ffff:8.8.8.8")) {
		t.Error("0.0.0.0/0 mismatches")
	}
}
