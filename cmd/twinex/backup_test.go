package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex/app"
)

// TestBackupUnderLoad takes a backup while clients place orders, restores
// it into a new data directory, starts a server there and finds every
// order acknowledged before the backup began, with the ledger check ok.
func TestBackupUnderLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := &Main{Listen: "127.0.0.1:0", DataDir: dir, Mode: app.Production}
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := newTestClient(t, m.Addr(), dir)
	const clients = 4
	for a := range clients {
		c.must("POST", "/admin/v1/accounts", map[string]any{"email": fmt.Sprintf("b%d@example.com", a), "verified": true}, nil)
		c.must("POST", "/admin/v1/fund", map[string]any{"account_id": 100 + a, "currency": "USD", "amount": "1000000"}, nil)
		c.must("POST", "/admin/v1/fund", map[string]any{"account_id": 100 + a, "currency": "BTC", "amount": "100"}, nil)
	}
	type acked struct {
		id string
		at time.Time
	}
	var (
		mu     sync.Mutex
		orders []acked
		wg     sync.WaitGroup
	)
	stop := make(chan struct{})
	for a := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				side := []string{"buy", "sell"}[i%2]
				var o orderResult
				st, err := c.do("POST", "/admin/v1/orders", map[string]any{"account_id": 100 + a, "symbol": "btcusd", "side": side,
					"price": fmt.Sprintf("%d", 29000+(i*37+a*11)%2000), "amount": "0.01"}, &o)
				if err != nil || st != 200 {
					continue
				}
				mu.Lock()
				orders = append(orders, acked{o.OrderID, time.Now()})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	began := time.Now()
	file := filepath.Join(t.TempDir(), "backup.db")
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"admin", "--server", "http://" + m.Addr(), "--data", dir, "backup", "--to", file, "--log"}, &out, &errOut); code != 0 {
		t.Fatalf("admin backup: %d %s", code, errOut.String())
	}
	time.Sleep(200 * time.Millisecond) // the load goes on after the copy
	close(stop)
	wg.Wait()
	var before []string
	for _, o := range orders {
		if o.at.Before(began) {
			before = append(before, o.id)
		}
	}
	if len(before) == 0 || len(before) == len(orders) {
		t.Fatalf("%d of %d orders before the backup: the load did not straddle it", len(before), len(orders))
	}

	// A new directory with the master key: restore checks it and the ledger.
	restored := filepath.Join(t.TempDir(), "restored")
	if code := run(ctx, []string{"restore", "--from", file, "--data", restored}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "no master key") {
		t.Fatalf("restore without the master key: %d %s", code, errOut.String())
	}
	os.MkdirAll(restored, 0o700)
	key, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	os.WriteFile(filepath.Join(restored, "master.key"), key, 0o600)
	out.Reset()
	errOut.Reset()
	if code := run(ctx, []string{"restore", "--from", file, "--data", restored}, &out, &errOut); code != 0 {
		t.Fatalf("restore: %d %s %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), `"ok": true`) || !strings.Contains(out.String(), `"log_restored": true`) {
		t.Fatalf("restore report: %s", out.String())
	}
	if code := run(ctx, []string{"restore", "--from", file, "--data", restored}, &out, &errOut); code == 0 {
		t.Fatal("a second restore into the same directory")
	}

	m2 := &Main{Listen: "127.0.0.1:0", DataDir: restored, Mode: app.Production}
	if err := m2.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	c2 := newTestClient(t, m2.Addr(), restored) // the restored server made its own token
	for _, id := range before {
		var o orderResult
		c2.must("GET", "/admin/v1/orders/"+id, nil, &o)
	}
	var v verifyResult
	c2.must("GET", "/admin/v1/verify", nil, &v)
	if !v.OK {
		t.Fatalf("verify after the restore: %+v", v)
	}
	t.Logf("%d orders acknowledged before the backup found after the restore (%d in all)", len(before), len(orders))
}
