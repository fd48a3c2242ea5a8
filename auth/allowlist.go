package auth

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MaxAllowlistEntries bounds an allowlist: every request scans it.
const MaxAllowlistEntries = 100

// Allowlist is the set of source addresses an API key may be used from
// (reference §7). The zero Allowlist, like one parsed from no entries,
// allows any address. An Allowlist is immutable and safe for concurrent
// use.
type Allowlist struct {
	prefixes []netip.Prefix
}

// ParseAllowlist parses allowlist entries: IPv4 or IPv6 addresses
// ("10.0.0.5", "2001:db8::1"), which become single-address ranges
// (10.0.0.5/32), and CIDR ranges ("10.0.0.0/24", "2001:db8::/32").
// Surrounding spaces are trimmed; exact duplicates are dropped; the order
// is kept.
//
// IPv4-mapped IPv6 entries ("::ffff:10.0.0.5", "::ffff:10.0.0.0/120") are
// stored as the IPv4 entries they stand for; one that stands for more than
// a /8 ("::ffff:0.0.0.0/96", all of IPv4) is refused with a hint to write
// the IPv4 range itself. An IPv6 range never matches IPv4 clients, even
// "::/0".
//
// Refused, with an error naming the entry (safe to show to the user): empty
// entries, hostnames, zones ("fe80::1%eth0"), more than MaxAllowlistEntries
// entries, and ranges with host bits set ("10.0.0.5/24"). The last is
// refused rather than masked to 10.0.0.0/24 because the entry is ambiguous
// (a single host with a wrong length, or a range with a wrong address?) and
// guessing wrong would widen the list; the error suggests the masked form.
func ParseAllowlist(entries []string) (Allowlist, error) {
	if len(entries) > MaxAllowlistEntries {
		return Allowlist{}, errors.New("an IP allowlist may have at most " + strconv.Itoa(MaxAllowlistEntries) + " entries")
	}
	var prefixes []netip.Prefix
	for _, e := range entries {
		p, err := parsePrefixEntry(e)
		if err != nil {
			return Allowlist{}, err
		}
		dup := false
		for _, q := range prefixes {
			dup = dup || q == p
		}
		if !dup {
			prefixes = append(prefixes, p)
		}
	}
	return Allowlist{prefixes: prefixes}, nil
}

// minMappedBits is the shortest IPv4 range an IPv4-mapped IPv6 entry may
// stand for (/8, 1/256 of IPv4).
const minMappedBits = 8

// share says how much of IPv4 a range of bits bits covers.
func share(bits int) string {
	if bits == 0 {
		return "all"
	}
	return "1/" + strconv.Itoa(1<<bits)
}

// parsePrefixEntry parses one address or CIDR range into a masked prefix,
// with IPv4-mapped IPv6 addresses unmapped.
func parsePrefixEntry(entry string) (netip.Prefix, error) {
	e := strings.TrimSpace(entry)
	if e == "" {
		return netip.Prefix{}, errors.New("empty IP address entry")
	}
	quoted := strconv.Quote(truncate(e, 60))
	if strings.Contains(e, "%") {
		return netip.Prefix{}, fmt.Errorf("%s: IPv6 zones are not allowed", quoted)
	}
	var p netip.Prefix
	if strings.Contains(e, "/") {
		var err error
		if p, err = netip.ParsePrefix(e); err != nil {
			return netip.Prefix{}, fmt.Errorf("%s is not an IP address or CIDR range", quoted)
		}
	} else {
		a, err := netip.ParseAddr(e)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%s is not an IP address or CIDR range", quoted)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		if p.Bits() < minMappedBits {
			// "::ffff:0.0.0.0/96" reads like an IPv6 corner, and means
			// every IPv4 address: make the user say it plainly.
			return netip.Prefix{}, fmt.Errorf("%s covers %s of IPv4; write %q if that is what you mean", quoted, share(p.Bits()), p.Masked().String())
		}
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%s has host bits set; did you mean %q?", quoted, m.String())
	}
	return p, nil
}

// Allows reports whether addr may use the key: always for an empty list;
// otherwise when addr is inside one of the entries. IPv4-mapped IPv6
// addresses (::ffff:10.0.0.5, as a dual-stack listener reports IPv4 peers)
// are matched as IPv4, and zones are ignored. An invalid addr (the zero
// netip.Addr) is allowed by an empty list only. Callers answer a refusal
// with RemoteAddressForbidden (HTTP 403).
func (l Allowlist) Allows(addr netip.Addr) bool {
	if len(l.prefixes) == 0 {
		return true
	}
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range l.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Empty reports whether the list has no entries, so allows any address.
func (l Allowlist) Empty() bool { return len(l.prefixes) == 0 }

// Strings returns the entries in canonical CIDR form ("10.0.0.5/32",
// "2001:db8::/32"), in order, for storage and display. ParseAllowlist of
// the result gives an equal list. It returns nil for an empty list.
func (l Allowlist) Strings() []string {
	if len(l.prefixes) == 0 {
		return nil
	}
	s := make([]string, len(l.prefixes))
	for i, p := range l.prefixes {
		s[i] = p.String()
	}
	return s
}
