package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/sqlite"
)

func TestAdminActivity(t *testing.T) {
	db, err := sqlite.Open(t.TempDir() + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := core.Open(context.Background(), core.Config{Store: db, Markets: twinex.DefaultMarkets()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer checkLedger(t, c)
	ts := httptest.NewServer((&Server{Core: c, Store: db, Accounts: db, Identities: db, ActivityLog: db, AdminToken: testToken}).Handler())
	defer ts.Close()
	newUsers(t, ts, 2)
	u1, _ := db.UserByEmail(t.Context(), "user1@example.com")
	u2, _ := db.UserByEmail(t.Context(), "user2@example.com")
	now := time.Now()
	db.AddActivity(t.Context(), []twinex.Activity{
		{Time: now.Add(-2 * time.Hour).UnixNano(), KeyID: "account-a", UserID: u1.ID, Path: "/v1/balances", Status: 200},
		{Time: now.UnixNano(), KeyID: "account-a", UserID: u1.ID, Path: "/v1/order/new", Reason: "InvalidNonce", Status: 400},
		{Time: now.UnixNano(), KeyID: "account-b", UserID: u2.ID, Path: "/v1/balances", Status: 200},
		{Time: now.UnixNano(), KeyID: "account-zzz", Path: "/v1/balances", Reason: "InvalidSignature", Status: 400},
	})
	get := func(q string) (int, []admin.Activity) {
		req, _ := http.NewRequest("GET", ts.URL+"/admin/v1/activity?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []admin.Activity
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, out := get("email=user1@example.com"); st != 200 || len(out) != 2 || out[0].Outcome != "InvalidNonce" || out[1].Outcome != "ok" {
		t.Fatalf("user1: %d %+v", st, out)
	}
	if st, out := get("email=user1@example.com&since=1h"); st != 200 || len(out) != 1 {
		t.Fatalf("user1 last hour: %d %+v", st, out)
	}
	if st, out := get("unknown=true"); st != 200 || len(out) != 1 || out[0].Key != "account-zzz" {
		t.Fatalf("unknown keys: %d %+v", st, out)
	}
	for _, q := range []string{"", "email=nobody@example.com", "email=user1@example.com&since=-1h", "email=user1@example.com&limit=0"} {
		if st, _ := get(q); st != 400 {
			t.Errorf("%q: status %d, want 400", q, st)
		}
	}
}
