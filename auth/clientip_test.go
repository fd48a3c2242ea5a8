package auth

import (
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		s       string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{" , ", nil, ""},
		{"127.0.0.1", []string{"127.0.0.1/32"}, ""},
		{"127.0.0.1, 10.0.0.0/8,::1,", []string{"127.0.0.1/32", "10.0.0.0/8", "::1/128"}, ""},
		{"::ffff:10.0.0.1", []string{"10.0.0.1/32"}, ""},
		{"10.0.0.1/8", nil, `"10.0.0.1/8"`},
		{"127.0.0.1, proxy.local", nil, `"proxy.local"`},
		{"127.0.0.1 10.0.0.1", nil, `"127.0.0.1 10.0.0.1"`},
	}
	for _, tt := range tests {
		got, err := ParseTrustedProxies(tt.s)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTrustedProxies(%q) = %v, %v; want error naming %s", tt.s, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTrustedProxies(%q): %v", tt.s, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if !slices.Equal(s, tt.want) {
			t.Errorf("ParseTrustedProxies(%q) = %q, want %q", tt.s, s, tt.want)
		}
	}
}

func TestClientIP(t *testing.T) {
	proxies, err := ParseTrustedProxies("127.0.0.1, 10.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		remote  string
		xff     []string // header lines
		realIP  string
		trusted []netip.Prefix
		want    string // "" is the invalid netip.Addr
	}{
		// No trusted proxies: headers are ignored completely.
		{"plain peer", "203.0.113.7:51000", nil, "", nil, "203.0.113.7"},
		{"spoofed XFF, no proxies", "203.0.113.7:51000", []string{"10.0.0.5"}, "", nil, "203.0.113.7"},
		{"spoofed X-Real-IP, no proxies", "203.0.113.7:51000", nil, "10.0.0.5", nil, "203.0.113.7"},
		{"loopback peer, no proxies", "127.0.0.1:4000", []string{"198.51.100.1"}, "", nil, "127.0.0.1"},
		{"IPv6 peer", "[2001:db8::7]:51000", nil, "", nil, "2001:db8::7"},
		{"mapped IPv4 peer", "[::ffff:203.0.113.7]:51000", nil, "", nil, "203.0.113.7"},
		{"zoned peer", "[fe80::1%eth0]:51000", nil, "", nil, "fe80::1"},
		{"bad RemoteAddr", "somewhere", nil, "", nil, ""},
		{"empty RemoteAddr", "", nil, "", nil, ""},
		{"RemoteAddr without port", "203.0.113.7", nil, "", nil, "203.0.113.7"},

		// Peer is not a trusted proxy: headers are ignored.
		{"untrusted peer sends XFF", "203.0.113.7:51000", []string{"10.0.0.5"}, "", proxies, "203.0.113.7"},
		{"untrusted peer sends X-Real-IP", "203.0.113.7:51000", nil, "127.0.0.1", proxies, "203.0.113.7"},

		// Peer is a trusted proxy.
		{"one proxy", "127.0.0.1:4000", []string{"198.51.100.1"}, "", proxies, "198.51.100.1"},
		{"proxy without XFF", "127.0.0.1:4000", nil, "", proxies, "127.0.0.1"},
		{"proxy with empty XFF", "127.0.0.1:4000", []string{""}, "", proxies, "127.0.0.1"},
		{"X-Real-IP ignored behind proxy", "127.0.0.1:4000", nil, "198.51.100.1", proxies, "127.0.0.1"},
		{"client prepends a spoofed address", "127.0.0.1:4000", []string{"10.0.0.9, 198.51.100.1"}, "", proxies, "198.51.100.1"},
		{"client prepends garbage", "127.0.0.1:4000", []string{"garbage, 198.51.100.1"}, "", proxies, "198.51.100.1"},
		{"two proxies", "127.0.0.1:4000", []string{"198.51.100.1, 10.1.2.3"}, "", proxies, "198.51.100.1"},
		{"chain with spoof", "127.0.0.1:4000", []string{"1.1.1.1, 198.51.100.1, 10.1.2.3"}, "", proxies, "198.51.100.1"},
		{"several header lines", "127.0.0.1:4000", []string{"1.1.1.1, 198.51.100.1", "10.1.2.3"}, "", proxies, "198.51.100.1"},
		{"spoof in an earlier header line", "127.0.0.1:4000", []string{"1.1.1.1", "198.51.100.1"}, "", proxies, "198.51.100.1"},
		{"all entries trusted", "127.0.0.1:4000", []string{"10.0.0.2, 10.0.0.3"}, "", proxies, "10.0.0.2"},
		{"malformed rightmost entry", "127.0.0.1:4000", []string{"198.51.100.1, bogus"}, "", proxies, "127.0.0.1"},
		{"malformed after a trusted hop", "127.0.0.1:4000", []string{"bogus, 10.0.0.3"}, "", proxies, "127.0.0.1"},
		{"unknown token", "127.0.0.1:4000", []string{"unknown"}, "", proxies, "127.0.0.1"},
		{"empty items skipped", "127.0.0.1:4000", []string{"198.51.100.1,, "}, "", proxies, "198.51.100.1"},
		{"entry with port", "127.0.0.1:4000", []string{"198.51.100.1:5555"}, "", proxies, "198.51.100.1"},
		{"IPv6 entry", "[::1]:4000", []string{"2001:db8::9"}, "", proxies, "2001:db8::9"},
		{"bracketed IPv6 entry", "[::1]:4000", []string{"[2001:db8::9]"}, "", proxies, "2001:db8::9"},
		{"bracketed IPv6 entry with port", "[::1]:4000", []string{"[2001:db8::9]:443"}, "", proxies, "2001:db8::9"},
		{"mapped proxy peer", "[::ffff:10.0.0.1]:4000", []string{"198.51.100.1"}, "", proxies, "198.51.100.1"},
		{"mapped XFF entry", "127.0.0.1:4000", []string{"::ffff:198.51.100.1"}, "", proxies, "198.51.100.1"},
		{"mapped trusted XFF entry skipped", "127.0.0.1:4000", []string{"198.51.100.1, ::ffff:10.0.0.3"}, "", proxies, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/balances", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
			}
			var want netip.Addr
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got := ClientIP(r, tt.trusted); got != want {
				t.Errorf("ClientIP = %v, want %v", got, want)
			}
		})
	}
}

// TestClientIPAllowlistBypass is the attack DESIGN warns about: one header
// must not get a request past an allowlist.
func TestClientIPAllowlistBypass(t *testing.T) {
	list, _ := ParseAllowlist([]string{"10.0.0.5"})
	r := httptest.NewRequest("POST", "/v1/order/new", nil)
	r.RemoteAddr = "203.0.113.7:51000"
	r.Header.Set("X-Forwarded-For", "10.0.0.5")
	r.Header.Set("X-Real-IP", "10.0.0.5")
	r.Header.Set("Forwarded", "for=10.0.0.5")
	for _, trusted := range [][]netip.Prefix{nil, {netip.MustParsePrefix("127.0.0.0/8")}} {
		if ip := ClientIP(r, trusted); list.Allows(ip) {
			t.Errorf("trusted %v: spoofed headers got %v through the allowlist", trusted, ip)
		}
	}
}
