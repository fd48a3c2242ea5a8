package app

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// book fetches a public order book.
func book(t *testing.T, a *App, symbol string) (bids, asks []map[string]string) {
	t.Helper()
	resp, err := http.Get("http://" + a.Addr() + "/v1/book/" + symbol)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Bids, Asks []map[string]string }
	json.NewDecoder(resp.Body).Decode(&v)
	return v.Bids, v.Asks
}

func TestSimulatorMakesALiveMarket(t *testing.T) {
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Sim: true, SimSeed: 7}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Every market becomes two-sided.
	for _, sym := range []string{"btcusd", "ethusd", "ethbtc", "solusd", "ltcusd"} {
		for i := 0; ; i++ {
			bids, asks := book(t, a, sym)
			if len(bids) > 0 && len(asks) > 0 {
				break
			}
			if i == 100 {
				t.Fatalf("%s never became two-sided", sym)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	must := func(method, path, body string) map[string]any {
		t.Helper()
		st, v := admin(t, a, method, path, body)
		if st != 200 {
			t.Fatalf("%s %s: %d %v", method, path, st, v)
		}
		return v
	}
	v := must("POST", "/admin/v1/sandbox/price", `{"symbol":"btcusd","price":"45000"}`)
	if ref := v["reference"].(map[string]any)["btcusd"]; ref != "45000.00" {
		t.Fatalf("reference after a jump: %v", ref)
	}
	for i := 0; ; i++ {
		bids, _ := book(t, a, "btcusd")
		if len(bids) > 0 && bids[0]["price"] > "44000" {
			break
		}
		if i == 200 {
			t.Fatalf("the book never moved to the new price: %v", bids)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := must("POST", "/admin/v1/sandbox/sim/pause", ``); v["paused"] != true {
		t.Fatalf("pause: %v", v)
	}
	// A pause holds across a restore.
	must("POST", "/admin/v1/sandbox/save", `{"name":"paused"}`)
	must("POST", "/admin/v1/sandbox/restore", `{"name":"paused"}`)
	if v := must("GET", "/admin/v1/sandbox/sim", ``); v["paused"] != true {
		t.Fatalf("after a restore: %v", v)
	}
	must("POST", "/admin/v1/sandbox/sim/resume", ``)
	if st, v := admin(t, a, "POST", "/admin/v1/sandbox/price", `{"symbol":"dogeusd","price":"1"}`); st != 400 {
		t.Fatalf("unknown market: %d %v", st, v)
	}
	if v := must("GET", "/admin/v1/verify", ``); v["ok"] != true {
		t.Fatalf("verify: %v", v)
	}
}

func TestNoSimulatorMeansAnEmptyMarket(t *testing.T) {
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir()} // Sim false, as serve --sim=false
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	time.Sleep(300 * time.Millisecond)
	if bids, asks := book(t, a, "btcusd"); len(bids)+len(asks) != 0 {
		t.Fatalf("orders without a simulator: %v %v", bids, asks)
	}
	if st, v := admin(t, a, "POST", "/admin/v1/sandbox/sim/pause", ``); st != 400 {
		t.Fatalf("pausing a simulator that is off: %d %v", st, v)
	}
}

func TestSimulatorFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "simulator.json"), []byte(`{"markets":[
		{"symbol":"btcusd","model":"replay","replay_csv":"sample","spread_bps":30,"refresh_every":"2s"},
		{"symbol":"ethusd","volatility":0,"start":"2500"}]}`), 0o600)
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, Sim: true}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, v := admin(t, a, "GET", "/admin/v1/sandbox/sim", "")
	refs := v["reference"].(map[string]any)
	if refs["ethusd"] != "2500.00" {
		t.Errorf("ethusd reference %v, want the configured start", refs["ethusd"])
	}
	if p := refs["btcusd"].(string); p < "29000" || p > "31000" {
		t.Errorf("btcusd reference %v, want the sample's ~30000", p)
	}
	a.Close()

	for _, bad := range []string{`{"markets":[{"symbol":"dogeusd"}]}`, `{"markets":[{"symbol":"btcusd","refresh_every":"soon"}]}`, `{"nope":1}`} {
		os.WriteFile(filepath.Join(dir, "simulator.json"), []byte(bad), 0o600)
		b := &App{Listen: "127.0.0.1:0", DataDir: dir, Sim: true}
		if err := b.Open(context.Background()); err == nil {
			b.Close()
			t.Errorf("started with simulator.json %s", bad)
		}
	}
}

func TestConcurrentPauseAndResume(t *testing.T) {
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Sim: true}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func(i int) {
			defer func() { done <- struct{}{} }()
			path := "/admin/v1/sandbox/sim/pause"
			if i%2 == 1 {
				path = "/admin/v1/sandbox/sim/resume"
			}
			admin(t, a, "POST", path, "")
		}(i)
	}
	for i := 0; i < 8; i++ {
		<-done
	}
	// Whatever won, the flag and the runner agree.
	a.mu.RLock()
	flag, running := a.simPaused, a.st.sim.runner.Paused()
	a.mu.RUnlock()
	if flag != running {
		t.Fatalf("pause flag %v, runner paused %v", flag, running)
	}
}
