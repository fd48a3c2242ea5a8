package app

import (
	"context"
	"testing"
	"time"
)

// TestScenarioOverTheAdminAPI: a scenario posted to the admin API plays on
// the running sandbox (price, status, maintenance), reports its progress,
// and stops on request.
func TestScenarioOverTheAdminAPI(t *testing.T) {
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Sim: true, SimSeed: 2}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	st, v := admin(t, a, "POST", "/admin/v1/sandbox/scenario", `{"name":"t","seed":9,"market":"btcusd","steps":[
		{"at":"0s","price":"41000","spread_bps":40},
		{"at":"50ms","status":"post_only"},
		{"at":"100ms","maintenance":"1h"}]}`)
	if st != 200 || v["state"] != "running" || v["steps"] != float64(3) {
		t.Fatalf("run: %d %v", st, v)
	}
	for i := 0; ; i++ {
		_, v = admin(t, a, "GET", "/admin/v1/sandbox/scenario", "")
		if v["state"] == "finished" {
			break
		}
		if i == 200 {
			t.Fatalf("scenario never finished: %v", v)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v := a.SimStatus().Reference["btcusd"]; v != "41000.00" {
		t.Errorf("reference after the scenario: %s", v)
	}
	if _, v := admin(t, a, "GET", "/admin/v1/markets", ""); v["list"].([]any)[0].(map[string]any)["status"] != "post_only" {
		t.Errorf("markets: %v", v)
	}
	if v := pubticker(t, a, "btcusd"); v["reason"] != "Maintenance" {
		t.Errorf("ticker in the scenario's maintenance window: %v", v)
	}
	// A long scenario stops on request; a bad one is refused.
	if st, v := admin(t, a, "POST", "/admin/v1/sandbox/scenario", `{"market":"btcusd","steps":[{"at":"1h","status":"open"}]}`); st != 200 {
		t.Fatalf("run: %d %v", st, v)
	}
	if st, v := admin(t, a, "DELETE", "/admin/v1/sandbox/scenario", ""); st != 200 || v["state"] != "stopped" {
		t.Fatalf("stop: %d %v", st, v)
	}
	if st, v := admin(t, a, "POST", "/admin/v1/sandbox/scenario", `{"market":"dogeusd","steps":[{"at":"1s","price_pct":1}]}`); st != 400 {
		t.Fatalf("bad scenario: %d %v", st, v)
	}
}

// TestServeScenario: App.Scenario plays a shipped example from the start.
func TestServeScenario(t *testing.T) {
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Sim: true, SimSeed: 2, Scenario: "halt-and-reopen"}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if st := a.ScenarioStatus(); st.Name != "halt-and-reopen" || st.State != "running" {
		t.Fatalf("status %v", st)
	}
	bad := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Scenario: "no-such-scenario"}
	if err := bad.Open(context.Background()); err == nil {
		bad.Close()
		t.Fatal("an unknown scenario was accepted")
	}
}
