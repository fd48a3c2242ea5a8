package twinex

import (
	"errors"
	"strconv"
	"strings"
)

// Role is a set of API key roles (reference §1.6), one bit each. An
// endpoint's requirement is a Role too: the set of roles any one of which
// grants access.
type Role uint8

// The roles of an API key.
const (
	// Trader places and cancels orders and reads orders, trades and
	// balances. It is Gemini's default.
	RoleTrader Role = 1 << iota
	// FundManager deposits, withdraws and transfers.
	RoleFundManager
	// Auditor is read-only and cannot be combined with another role.
	RoleAuditor
	// Administrator creates and renames accounts; master keys only.
	RoleAdministrator

	// AllRoles is every role; bits outside it are invalid.
	AllRoles = RoleTrader | RoleFundManager | RoleAuditor | RoleAdministrator
)

// roleNames are the names in Gemini's capitalised form, in bit order.
var roleNames = [...]string{"Trader", "FundManager", "Auditor", "Administrator"}

// ParseRoles parses a comma-separated list of role names such as
// "trader,fundmanager" or "Trader, Fund Manager". Names are matched
// case-insensitively, ignoring spaces, '-' and '_' ("Fund Manager",
// "fund_manager" and "FundManager" are one role). Repeats are harmless;
// empty items are skipped, so "" gives 0, which ValidateRoles refuses. An
// unknown name is an error whose text, safe to show, names it.
func ParseRoles(s string) (Role, error) {
	var r Role
	for item := range strings.SplitSeq(s, ",") {
		key := strings.Map(func(c rune) rune {
			switch c {
			case ' ', '\t', '-', '_':
				return -1
			}
			return c
		}, strings.ToLower(item))
		if key == "" {
			continue
		}
		found := false
		for i, name := range roleNames {
			if key == strings.ToLower(name) {
				r |= 1 << i
				found = true
				break
			}
		}
		if !found {
			return 0, errors.New("unknown role " + strconv.Quote(truncate(strings.TrimSpace(item), 40)) +
				" (the roles are Trader, Fund Manager, Auditor and Administrator)")
		}
	}
	return r, nil
}

// ValidateRoles applies Gemini's rules to the roles of a new or edited key:
// at least one role; Auditor alone (it cannot be combined); Administrator
// only on master keys; no unknown bits. The error's text is safe to show to
// the user who chose the roles.
func ValidateRoles(r Role, master bool) error {
	switch {
	case r == 0:
		return errors.New("an API key needs at least one role")
	case r&^AllRoles != 0:
		return errors.New("unknown role bits " + strconv.Itoa(int(r&^AllRoles)))
	case r&RoleAuditor != 0 && r != RoleAuditor:
		return errors.New("the Auditor role cannot be combined with other roles")
	case r&RoleAdministrator != 0 && !master:
		return errors.New("the Administrator role is for master keys only")
	}
	return nil
}

// HasAny reports whether r shares a role with need, that is whether a key
// with roles r may call an endpoint that needs any one of the roles need.
func (r Role) HasAny(need Role) bool { return r&need != 0 }

// Names returns the roles of r in Gemini's capitalised form, in the order
// Trader, FundManager, Auditor, Administrator; unknown bits are left out.
// It returns an empty, non-nil slice for no roles.
func (r Role) Names() []string {
	names := []string{}
	for i, name := range roleNames {
		if r&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// String returns the names joined by commas, a form ParseRoles reads back.
func (r Role) String() string { return strings.Join(r.Names(), ",") }

// MissingRoleMessage returns the message of Gemini's MissingRole error
// (HTTP 403) for a key keyID with roles has calling an endpoint that needs
// one of the roles need (reference §1.6):
//
//	To access this endpoint, you need to log in to the website and go to the settings page to assign one of these roles [FundManager] to API key account-wujB3szN54gtJ4QDhqRJ which currently has roles [Trader]
//
// The key id is printed whole, prefix included. The documented example
// shows wujB3szN54gtJ4QDhqRJ bare, but that is a legacy Gemini key, which
// had no prefix (reference §7), so it too is printed as issued; the whole
// id is also what the user finds on the settings page. Several roles are
// joined with ", " ("[Trader, Auditor]"), a guess: Gemini's examples show
// one role only. No roles print as "[]".
func MissingRoleMessage(need Role, keyID string, has Role) string {
	return "To access this endpoint, you need to log in to the website and go to the settings page to assign one of these roles [" +
		strings.Join(need.Names(), ", ") + "] to API key " + keyID +
		" which currently has roles [" + strings.Join(has.Names(), ", ") + "]"
}

// truncate shortens s for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
