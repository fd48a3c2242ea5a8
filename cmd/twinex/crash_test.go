package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

// TestCrashLosesNothingAcknowledged runs the real binary, drives it with
// concurrent orders, cancels and deposits, kills it with SIGKILL in the
// middle of the load, restarts it on the same data and checks that every
// acknowledged command survived and the ledger invariants hold.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd, addr := startBinary(t, bin, dir)
	c := newTestClient(t, addr, dir)

	const clients = 16
	for a := 0; a < clients; a++ {
		var u struct {
			AccountID int64 `json:"account_id"`
		}
		c.must("POST", "/admin/v1/accounts", map[string]any{"email": fmt.Sprintf("trader%d@example.com", a)}, &u)
		if u.AccountID != int64(100+a) {
			t.Fatalf("user %d got account %d", a, u.AccountID)
		}
		c.must("POST", "/admin/v1/fund", map[string]any{"account_id": 100 + a, "currency": "USD", "amount": "1000000"}, nil)
		c.must("POST", "/admin/v1/fund", map[string]any{"account_id": 100 + a, "currency": "BTC", "amount": "100"}, nil)
	}

	type acked struct {
		placed    map[string]orderResult // order id -> as acknowledged
		cancelled map[string]bool
		deposits  int64 // USD, whole dollars
		attempted int64 // USD deposits sent, acknowledged or not
	}
	results := make([]acked, clients)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for a := 0; a < clients; a++ {
		results[a] = acked{placed: map[string]orderResult{}, cancelled: map[string]bool{}}
		wg.Add(1)
		go func(a int) {
			defer wg.Done()
			r := &results[a]
			rng := rand.New(rand.NewPCG(uint64(a), 7))
			acct := 100 + a
			var open []string
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch k := rng.IntN(10); {
				case k < 6 || len(open) == 0:
					side := "buy"
					if rng.IntN(2) == 0 {
						side = "sell"
					}
					price := fmt.Sprintf("%d.%02d", 29990+rng.IntN(20), rng.IntN(100))
					var o orderResult
					status, err := c.do("POST", "/admin/v1/orders", map[string]any{"account_id": acct, "symbol": "btcusd", "side": side, "price": price, "amount": "0.01"}, &o)
					if err != nil {
						return // the server is gone
					}
					if status == 200 {
						r.placed[o.OrderID] = o
						if o.IsLive {
							open = append(open, o.OrderID)
						}
					}
				case k < 9:
					id := open[len(open)-1]
					open = open[:len(open)-1]
					n, _ := strconv.ParseInt(id, 10, 64)
					var o orderResult
					status, err := c.do("POST", "/admin/v1/orders/cancel", map[string]any{"account_id": acct, "order_id": n}, &o)
					if err != nil {
						return
					}
					if status == 200 {
						r.cancelled[id] = true
					}
				default:
					r.attempted += 10
					status, err := c.do("POST", "/admin/v1/fund", map[string]any{"account_id": acct, "currency": "USD", "amount": "10"}, nil)
					if err != nil {
						return
					}
					if status == 200 {
						r.deposits += 10
					}
				}
			}
		}(a)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()

	_, addr = startBinary(t, bin, dir)
	c = newTestClient(t, addr, dir)
	var v verifyResult
	c.must("GET", "/admin/v1/verify", nil, &v)
	if !v.OK {
		t.Fatalf("ledger check after the crash: %v", v.Violations)
	}
	var placed, cancelled int
	var deposits, attempted int64
	var maxID int64
	for a := range results {
		r := &results[a]
		deposits += r.deposits
		attempted += r.attempted
		for id, want := range r.placed {
			placed++
			var got orderResult
			c.must("GET", "/admin/v1/orders/"+id, nil, &got)
			if got.AccountID != want.AccountID || got.Original != want.Original || got.Price != want.Price {
				t.Errorf("order %s after the crash: %+v, acknowledged as %+v", id, got, want)
			}
			if n, _ := strconv.ParseInt(id, 10, 64); n > maxID {
				maxID = n
			}
			if r.cancelled[id] {
				cancelled++
				if got.IsLive || !got.IsCancelled {
					t.Errorf("order %s was acknowledged as cancelled but is %+v", id, got)
				}
			}
		}
	}
	if placed < 50 {
		t.Fatalf("only %d orders were acknowledged before the kill; the load did not run", placed)
	}
	if v.LastOrderID < maxID {
		t.Errorf("last order id %d after the crash, but %d was acknowledged", v.LastOrderID, maxID)
	}
	// Every acknowledged deposit is in the supply; unacknowledged ones may
	// or may not be.
	supply, err := twinex.ParseUnits(v.Supply["USD"], 0)
	if err != nil {
		t.Fatalf("supply %q: %v", v.Supply["USD"], err)
	}
	base := int64(clients * 1000000)
	if supply < base+deposits || supply > base+attempted {
		t.Errorf("USD supply %d after the crash; acknowledged deposits give %d, attempted %d", supply, base+deposits, base+attempted)
	}
	// Ids keep increasing after the restart.
	c.must("POST", "/admin/v1/fund", map[string]any{"account_id": 100, "currency": "USD", "amount": "1"}, nil)
	var o orderResult
	c.must("POST", "/admin/v1/orders", map[string]any{"account_id": 100, "symbol": "btcusd", "side": "buy", "price": "1.00", "amount": "0.01"}, &o)
	if n, _ := strconv.ParseInt(o.OrderID, 10, 64); n <= v.LastOrderID {
		t.Errorf("new order id %d is not above %d", n, v.LastOrderID)
	}
	t.Logf("acknowledged before SIGKILL: %d orders (%d cancelled), %d USD of deposits; all present after restart", placed, cancelled, deposits)
}
