package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"strings"
	"sync/atomic"
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

// freezer is a TCP proxy to target that can stop passing bytes without
// closing anything: a network that went silent, as when a cable is pulled
// or a firewall starts dropping packets.
type freezer struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *freezer) serve(c net.Conn) {
	for f.frozen.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	d, err := net.Dial("tcp", f.target)
	if err != nil {
		c.Close()
		return
	}
	pump := func(dst, src net.Conn) {
		defer dst.Close()
		defer src.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			for f.frozen.Load() {
				time.Sleep(10 * time.Millisecond)
			}
			if n > 0 {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pump(d, c)
	pump(c, d)
}

// TestLeaderCutOffStepsDown: the leader's network to PostgreSQL goes silent
// (nothing closed, nothing answered) while its simulator commits. It steps
// down without waiting on the writes in flight, and its role loop goes on
// (it tries the lease again, and fails, while the network is still silent);
// the standby takes over. Once the network is back the old leader stands by
// under the new one.
func TestLeaderCutOffStepsDown(t *testing.T) {
	ctx := context.Background()
	store := pg.Schema(t)
	u, err := neturl.Parse(store)
	if err != nil {
		t.Fatal(err)
	}
	f := newFreezer(t, u.Host)
	u.Host = f.ln.Addr().String()
	dir := t.TempDir()
	lease := Lease{TTL: 2 * time.Second, Every: 100 * time.Millisecond}
	var logs lockedBuffer
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, Store: u.String(), Lease: lease,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var blogs lockedBuffer
	b := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Store: store, Lease: lease,
		Logger: slog.New(slog.NewTextHandler(&blogs, nil))}
	if err := b.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if status, _, body := get(t, "http://"+a.Addr()+"/healthz"); status != 200 || !strings.Contains(body, `"role":"leader"`) {
		t.Fatalf("the first server does not lead: %d %s", status, body)
	}
	time.Sleep(300 * time.Millisecond) // the simulator commits meanwhile
	f.frozen.Store(true)
	frozen := time.Now()
	waitFor := func(what string, within time.Duration, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(within); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s; the cut-off server's log:\n%s\nthe standby's:\n%s", what, within, logs.String(), blogs.String())
			}
		}
	}
	waitFor("the cut-off leader steps down", 15*time.Second, func() bool {
		return strings.Contains(logs.String(), "stepping down")
	})
	// Its role loop is not held by the dead connections: it tries the
	// lease again (and cannot reach it) while the network is still silent.
	// Closing its state first waits out the bounded drains (up to 15 s:
	// WebSockets, then mailing the last alerts, which needs the database).
	waitFor("the cut-off server tries the lease again", 40*time.Second, func() bool {
		l := logs.String()
		i := strings.Index(l, "stepping down")
		return strings.Contains(l[i:], "reading the lease failed")
	})
	t.Logf("the cut-off server tried the lease again %s after its network went silent", time.Since(frozen).Round(time.Millisecond))
	waitFor("the standby leads", 20*time.Second, func() bool {
		status, _, _ := get(t, "http://"+b.Addr()+"/v1/pubticker/btcusd")
		return status == 200
	})
	f.frozen.Store(false)
	waitFor("the old leader stands by under the new one", 20*time.Second, func() bool {
		status, _, body := get(t, "http://"+a.Addr()+"/healthz")
		return status == 200 && strings.Contains(body, `"role":"standby"`) && strings.Contains(body, b.holder)
	})
}
