package app

import (
	"context"
	"testing"
)

// TestMarketStatusSurvivesRestart: a status the operator set is in the
// store, so a restarted server enforces it.
func TestMarketStatusSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, v := admin(t, a, "POST", "/admin/v1/markets/ethusd/status", `{"status":"cancel_only"}`); st != 200 {
		t.Fatalf("set: %d %v", st, v)
	}
	a.Close()
	a = &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	st, v := admin(t, a, "POST", "/admin/v1/orders", `{"email":"demo@twinex.local","symbol":"ethusd","side":"buy","price":"1","amount":"1"}`)
	if st != 400 || v["reason"] != "MarketNotOpen" {
		t.Errorf("order on a cancel_only market after a restart: %d %v", st, v)
	}
}
