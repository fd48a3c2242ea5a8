package api

import (
	"fmt"
	"testing"
	"time"
)

// TestRoleTable checks every signed endpoint against reference §1.6's role
// table with an account key of each role: a key without the role gets 403
// MissingRole, one with it gets past the role check (whatever the endpoint
// then says about the empty payload).
func TestRoleTable(t *testing.T) {
	ts := privateServer(t)
	keys := map[string]testKey{
		"trader":      newKey(t, ts, "roles@example.com", `{"roles":"trader"}`),
		"fundmanager": newKey(t, ts, "roles@example.com", `{"roles":"fundmanager"}`),
		"auditor":     newKey(t, ts, "roles@example.com", `{"roles":"auditor"}`),
	}
	// allowed lists the roles that may call each path.
	table := []struct {
		path    string
		allowed []string
	}{
		{"/v1/order/new", []string{"trader"}},
		{"/v1/order/cancel", []string{"trader"}},
		{"/v1/order/cancel/session", []string{"trader"}},
		{"/v1/order/cancel/all", []string{"trader"}},
		{"/v1/order/status", []string{"trader", "auditor"}},
		{"/v1/orders", []string{"trader", "auditor"}},
		{"/v1/orders/history", []string{"trader", "auditor"}},
		{"/v1/mytrades", []string{"trader", "auditor"}},
		{"/v1/tradevolume", []string{"trader", "auditor"}},
		{"/v1/notionalvolume", []string{"trader", "auditor"}},
		{"/v1/heartbeat", []string{"trader"}},
		{"/v1/balances", []string{"trader", "fundmanager", "auditor"}},
		{"/v1/notionalbalances/usd", []string{"trader", "fundmanager", "auditor"}},
		{"/v1/addresses/bitcoin", []string{"trader", "fundmanager", "auditor"}},
		{"/v1/transfers", []string{"trader", "fundmanager", "auditor"}},
		{"/v1/deposit/bitcoin/newAddress", []string{"fundmanager"}},
		{"/v1/withdraw/btc", []string{"fundmanager"}},
		{"/v1/payments/methods", []string{"trader", "fundmanager", "auditor"}},
		{"/v1/account", []string{"trader", "fundmanager", "auditor"}},
		{"/v1/approvedAddresses/account/bitcoin", []string{"trader", "fundmanager", "auditor"}},
		{"/v1/approvedAddresses/bitcoin/request", []string{"fundmanager"}},
		{"/v1/approvedAddresses/bitcoin/remove", []string{"fundmanager"}},
		{"/v1/roles", []string{"trader", "fundmanager", "auditor"}},
	}
	nonce := time.Now().UnixMilli()
	for _, row := range table {
		for role, k := range keys {
			nonce++
			st, v := rawSigned(t, ts, row.path, k, fmt.Sprintf(`{"request":%q,"nonce":%d}`, row.path, nonce), nil)
			allowed := false
			for _, a := range row.allowed {
				allowed = allowed || a == role
			}
			denied := st == 403 && v["reason"] == "MissingRole"
			if allowed == denied {
				t.Errorf("%s with a %s key: %d %v (allowed by the table: %v)", row.path, role, st, v, allowed)
			}
			if st >= 500 {
				t.Errorf("%s with a %s key and an empty payload: %d %v", row.path, role, st, v)
			}
		}
	}
}
