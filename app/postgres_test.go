package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex/postgres/pgtest"
)

var pg = pgtest.FromEnv(os.Getenv)

// get returns a request's status, Content-Type and body.
func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestSharedStoreRoles: two sandbox servers on one PostgreSQL schema. The
// first leads, names its store (password redacted) and role in /healthz,
// and refuses the SQLite-file features (snapshot, restore, reset) with a
// message; the second stands by: /healthz names the leader, the API answers
// 503 Maintenance naming it, the dashboard a 503 page. When the leader
// closes (giving the lease up), the standby leads.
func TestSharedStoreRoles(t *testing.T) {
	ctx := context.Background()
	store := strings.Replace(pg.Schema(t), "postgres://postgres@", "postgres://postgres:s3cret@", 1)
	dir := t.TempDir()
	lease := Lease{TTL: 2 * time.Second, Every: 100 * time.Millisecond}
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, Store: store, Lease: lease}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := &App{Listen: "127.0.0.1:0", DataDir: dir, Store: store, Lease: lease}
	if err := b.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var h map[string]any
	status, _, body := get(t, "http://"+a.Addr()+"/healthz")
	if err := json.Unmarshal([]byte(body), &h); err != nil || status != 200 || h["role"] != "leader" ||
		!strings.HasPrefix(h["store"].(string), "postgres://") || strings.Contains(body, "s3cret") {
		t.Fatalf("leader's healthz: %d %s", status, body)
	}
	for name, err := range map[string]error{"save": a.Save(ctx, "x"), "restore": a.Restore(ctx, "x"), "reset": a.Reset(ctx)} {
		if err == nil || !strings.Contains(err.Error(), "SQLite store only") {
			t.Errorf("sandbox %s on PostgreSQL: %v", name, err)
		}
	}

	status, _, body = get(t, "http://"+b.Addr()+"/healthz")
	if err := json.Unmarshal([]byte(body), &h); err != nil || status != 200 || h["role"] != "standby" || h["leader"] != a.holder {
		t.Fatalf("standby's healthz: %d %s", status, body)
	}
	status, ctype, body := get(t, "http://"+b.Addr()+"/v1/pubticker/btcusd")
	if status != 503 || !strings.Contains(ctype, "json") || !strings.Contains(body, `"reason":"Maintenance"`) || !strings.Contains(body, a.holder) {
		t.Errorf("standby's API: %d %s %s", status, ctype, body)
	}
	status, ctype, body = get(t, "http://"+b.Addr()+"/")
	if status != 503 || !strings.Contains(ctype, "text/html") || !strings.Contains(body, "standby") || !strings.Contains(body, a.holder) {
		t.Errorf("standby's dashboard: %d %s %s", status, ctype, body)
	}

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if status, _, _ := get(t, "http://"+b.Addr()+"/v1/pubticker/btcusd"); status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the standby did not lead after the leader closed")
		}
	}
}
