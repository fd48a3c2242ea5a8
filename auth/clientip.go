package auth

import (
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies parses the operator's list of trusted reverse proxies:
// comma-separated IP addresses and CIDR ranges ("127.0.0.1, 10.0.0.0/8,
// ::1"), with the rules of ParseAllowlist (no host bits, no zones, mapped
// addresses unmapped). Blank items are skipped, so "" and " , " give no
// trusted proxies, the safe default in which forwarding headers are
// ignored. The error names the bad item.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		p, err := parsePrefixEntry(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ClientIP returns the address a request comes from, for IP allowlists,
// rate limits and the activity log. It is the TCP peer (r.RemoteAddr),
// unless the peer is a trusted proxy: then X-Forwarded-For is read from the
// right (each proxy appends the address of its own peer), trusted addresses
// are skipped, and the first untrusted address is the client. Everything to
// its left was written by the client and is ignored.
//
// Safe fallbacks:
//   - with no trusted proxies, or a peer outside them, X-Forwarded-For is
//     ignored completely; X-Real-IP and Forwarded are always ignored (a
//     proxy that sets only X-Forwarded-For passes a client's X-Real-IP
//     through untouched);
//   - an entry that is not an address (nor "address:port" or "[v6]"), met before the
//     first untrusted one, makes ClientIP return the peer itself: a trusted
//     proxy wrote nonsense, so nothing further left can be believed, and a
//     proxy's own address fails closed against a user's allowlist;
//   - a missing or empty header gives the peer; a header whose entries are
//     all trusted gives its leftmost entry (a request from inside the
//     trusted network).
//
// Returned addresses are unmapped (IPv4 as IPv4) and have no zone. If
// RemoteAddr cannot be parsed (it is "host:port" for every net/http
// server), the result is the invalid netip.Addr{}, which only an empty
// allowlist allows.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, ok := parseHostAddr(r.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	if !inPrefixes(peer, trusted) {
		return peer
	}
	headers := r.Header.Values("X-Forwarded-For")
	client := peer
	// Walk every header line from the last to the first, and each line
	// from the right: several lines are one comma-separated list.
	for i := len(headers) - 1; i >= 0; i-- {
		h := headers[i]
		for h != "" {
			item := h
			if j := strings.LastIndexByte(h, ','); j >= 0 {
				item, h = h[j+1:], h[:j]
			} else {
				h = ""
			}
			item = strings.TrimSpace(item)
			if item == "" {
				continue // "a,,b" or a trailing comma: nothing was added here
			}
			a, ok := parseHostAddr(item)
			if !ok {
				return peer
			}
			if !inPrefixes(a, trusted) {
				return a
			}
			client = a
		}
	}
	return client
}

// parseHostAddr parses "addr", "[addr]", "addr:port" or "[addr]:port",
// unmapped and without zone.
func parseHostAddr(s string) (netip.Addr, bool) {
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func inPrefixes(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
