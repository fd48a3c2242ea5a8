package twinex

import (
	"slices"
	"testing"
)

func TestParseRoles(t *testing.T) {
	tests := []struct {
		s       string
		want    Role
		wantErr bool
	}{
		{"trader", RoleTrader, false},
		{"trader,fundmanager", RoleTrader | RoleFundManager, false},
		{"Trader, Fund Manager", RoleTrader | RoleFundManager, false},
		{"FUND_MANAGER", RoleFundManager, false},
		{"fund-manager", RoleFundManager, false},
		{"FundManager", RoleFundManager, false},
		{"auditor", RoleAuditor, false},
		{"Administrator,trader", RoleAdministrator | RoleTrader, false},
		{"trader,trader", RoleTrader, false},
		{"trader,,auditor,", RoleTrader | RoleAuditor, false}, // ParseRoles does not validate
		{"", 0, false},
		{" , ", 0, false},
		{"admin", 0, true},
		{"trader,superuser", 0, true},
		{"fund manger", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseRoles(tt.s)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRoles(%q) = %v, %v; want %v, error %v", tt.s, got, err, tt.want, tt.wantErr)
		}
	}
	// String reads back.
	for r := Role(1); r <= AllRoles; r++ {
		if got, err := ParseRoles(r.String()); err != nil || got != r {
			t.Errorf("ParseRoles(%q) = %v, %v; want %v", r.String(), got, err, r)
		}
	}
}

func TestValidateRoles(t *testing.T) {
	tests := []struct {
		r      Role
		master bool
		ok     bool
	}{
		{RoleTrader, false, true},
		{RoleFundManager, false, true},
		{RoleTrader | RoleFundManager, false, true},
		{RoleAuditor, false, true},
		{RoleAuditor, true, true},
		{RoleTrader | RoleAdministrator, true, true},
		{RoleAdministrator, true, true},
		{RoleTrader | RoleFundManager | RoleAdministrator, true, true},
		{0, false, false},
		{0, true, false},
		{RoleAuditor | RoleTrader, false, false},
		{RoleAuditor | RoleFundManager, false, false},
		{RoleAuditor | RoleAdministrator, true, false},
		{RoleAdministrator, false, false},
		{RoleTrader | RoleAdministrator, false, false},
		{RoleTrader | 1<<6, false, false},
	}
	for _, tt := range tests {
		if err := ValidateRoles(tt.r, tt.master); (err == nil) != tt.ok {
			t.Errorf("ValidateRoles(%v [%d], master %v) = %v, want ok %v", tt.r, tt.r, tt.master, err, tt.ok)
		}
	}
}

func TestRoleNames(t *testing.T) {
	tests := []struct {
		r    Role
		want []string
	}{
		{0, []string{}},
		{RoleTrader, []string{"Trader"}},
		{RoleFundManager | RoleTrader, []string{"Trader", "FundManager"}},
		{AllRoles, []string{"Trader", "FundManager", "Auditor", "Administrator"}},
		{RoleAuditor | 1<<7, []string{"Auditor"}},
	}
	for _, tt := range tests {
		if got := tt.r.Names(); !slices.Equal(got, tt.want) || got == nil {
			t.Errorf("%d.Names() = %#v, want %#v", tt.r, got, tt.want)
		}
	}
}

func TestHasAny(t *testing.T) {
	// /v1/order/status: Trader or Auditor (reference §1.6).
	need := RoleTrader | RoleAuditor
	for _, tt := range []struct {
		has  Role
		want bool
	}{{RoleTrader, true}, {RoleAuditor, true}, {RoleFundManager, false}, {RoleTrader | RoleFundManager, true}, {0, false}} {
		if got := tt.has.HasAny(need); got != tt.want {
			t.Errorf("%v.HasAny(%v) = %v", tt.has, need, got)
		}
	}
}

func TestMissingRoleMessage(t *testing.T) {
	tests := []struct {
		need  Role
		keyID string
		has   Role
		want  string
	}{
		// Gemini's documented example, verbatim (a legacy key id).
		{RoleFundManager, "wujB3szN54gtJ4QDhqRJ", RoleTrader,
			"To access this endpoint, you need to log in to the website and go to the settings page to assign one of these roles [FundManager] to API key wujB3szN54gtJ4QDhqRJ which currently has roles [Trader]"},
		{RoleFundManager, "account-wujB3szN54gtJ4QDhqRJ", RoleTrader,
			"To access this endpoint, you need to log in to the website and go to the settings page to assign one of these roles [FundManager] to API key account-wujB3szN54gtJ4QDhqRJ which currently has roles [Trader]"},
		{RoleTrader | RoleAuditor, "account-x", RoleFundManager,
			"To access this endpoint, you need to log in to the website and go to the settings page to assign one of these roles [Trader, Auditor] to API key account-x which currently has roles [FundManager]"},
		{RoleAdministrator, "master-x", 0,
			"To access this endpoint, you need to log in to the website and go to the settings page to assign one of these roles [Administrator] to API key master-x which currently has roles []"},
	}
	for _, tt := range tests {
		if got := MissingRoleMessage(tt.need, tt.keyID, tt.has); got != tt.want {
			t.Errorf("MissingRoleMessage:\n got %s\nwant %s", got, tt.want)
		}
	}
}
