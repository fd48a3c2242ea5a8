package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestAdminMarketScenarioAndWindow drives the new admin commands against a
// running sandbox: market status, a scenario by name, and a fault rule
// with a window.
func TestAdminMarketScenarioAndWindow(t *testing.T) {
	dir := t.TempDir()
	m := &Main{Listen: "127.0.0.1:0", DataDir: dir, Sim: true, SimSeed: 1}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	admin := func(args ...string) (int, map[string]any, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"admin", "--server", "http://" + m.Addr(), "--data", dir}, args...), &out, &errb)
		var v map[string]any
		json.Unmarshal(out.Bytes(), &v)
		return code, v, out.String() + errb.String()
	}
	if code, v, out := admin("market", "status", "--symbol", "btcusd", "--set", "post_only"); code != 0 || v["status"] != "post_only" {
		t.Fatalf("market status: %d %s", code, out)
	}
	if code, _, out := admin("market", "list"); code != 0 || !strings.Contains(out, `"post_only"`) {
		t.Fatalf("market list: %d %s", code, out)
	}
	if code, _, out := admin("market", "status", "--symbol", "btcusd", "--set", "halted"); code == 0 {
		t.Fatalf("unknown status accepted: %s", out)
	}
	if code, v, out := admin("scenario", "run", "slow-bleed"); code != 0 || v["name"] != "slow-bleed" || v["state"] != "running" {
		t.Fatalf("scenario run: %d %s", code, out)
	}
	if code, v, out := admin("scenario", "status"); code != 0 || v["name"] != "slow-bleed" {
		t.Fatalf("scenario status: %d %s", code, out)
	}
	if code, v, out := admin("scenario", "stop"); code != 0 || v["state"] != "stopped" {
		t.Fatalf("scenario stop: %d %s", code, out)
	}
	if code, _, out := admin("scenario", "run", "no-such-file.json"); code == 0 {
		t.Fatalf("a missing scenario ran: %s", out)
	}
	if code, v, out := admin("fault", "add", "--id", "mw", "--public", "--error", "Maintenance", "--from", "1h", "--until", "2h"); code != 0 || v["from"] == nil || v["until"] == nil {
		t.Fatalf("fault add with a window: %d %s", code, out)
	}
	if code, _, out := admin("fault", "add", "--error", "Maintenance", "--from", "soon"); code == 0 {
		t.Fatalf("a bad --from was accepted: %s", out)
	}
}
