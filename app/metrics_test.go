package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/twinex/twinex/gemini"
)

// TestMetrics: with a metrics address, GET /metrics there answers in the
// Prometheus text format with the request, sequencer, store, market and
// runtime figures; the API's address does not serve it, and no key id or
// address appears in a label.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, MetricsListen: "127.0.0.1:0"}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	base := "http://" + a.Addr()
	key, secret := demoKey(t, dir)
	if _, err := gemini.New(base, key, secret).Balances(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := gemini.New(base, key, "wrong").Balances(ctx); !gemini.IsReason(err, "InvalidSignature") {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := gemini.New(base, "", "").Ticker(ctx, "btcusd"); err != nil {
		t.Fatal(err)
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, _ := get(base + "/metrics"); st == 200 {
		t.Fatal("the API's address serves /metrics")
	}
	st, body := get("http://" + a.MetricsAddr() + "/metrics")
	if st != 200 {
		t.Fatalf("metrics: %d", st)
	}
	for _, want := range []string{
		`twinex_http_requests_total{group="funds",reason="",status="200"}`,
		`twinex_http_requests_total{group="funds",reason="InvalidSignature",status="400"}`,
		`twinex_http_requests_total{group="market_data",reason="",status="200"}`,
		`twinex_signed_requests_refused_total{reason="InvalidSignature"} 1`,
		`twinex_http_request_duration_seconds_bucket{group="funds"`,
		"twinex_sequencer_batch_commands_count",
		"twinex_store_commit_seconds_bucket",
		"\ntwinex_sequencer_queue_depth ",
		`twinex_book_orders{market="btcusd"}`,
		`twinex_book_bid_depth{market="btcusd"}`,
		"twinex_activity_records_written_total",
		"\ntwinex_websocket_connections 0\n",
		"\ntwinex_simulator_running 0\n", // Sim is off in this App
		"\ntwinex_leader 1\n",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, key) || strings.Contains(body, "127.0.0.1") {
		t.Error("a key id or an address in the metrics")
	}
	checkDashboard(t, body)
}

// checkDashboard: every metric the Grafana dashboard in docs/ queries is
// one this server exports, so a renamed metric cannot leave a panel empty.
func checkDashboard(t *testing.T, metrics string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	name := regexp.MustCompile(`\b(?:twinex|process|go)_[a-z_]+\b`)
	queried := 0
	for _, p := range dash.Panels {
		for _, q := range p.Targets {
			for _, m := range name.FindAllString(q.Expr, -1) {
				queried++
				if !strings.Contains(metrics, "\n"+m+"{") && !strings.Contains(metrics, "\n"+m+" ") {
					t.Errorf("dashboard panel %q queries %s, which the server does not export", p.Title, m)
				}
			}
		}
	}
	if queried < 20 {
		t.Errorf("the dashboard queries only %d metrics", queried)
	}
}
