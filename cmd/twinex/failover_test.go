package main

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ack is one acknowledged order: who acknowledged it, and when.
type ack struct {
	placed
	addr string
	at   time.Time
}

// orderLoad runs traders placing orders until stopped, each sending to the
// first server of addrs and moving to the next after an error or a
// refusal, as a client of a cluster would.
type orderLoad struct {
	mu        sync.Mutex
	acks      []ack
	attempted int
	stop      chan struct{}
	wg        sync.WaitGroup
}

func runLoad(traders []*trader, addrs ...string) *orderLoad {
	l := &orderLoad{stop: make(chan struct{})}
	for i, tr := range traders {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			at := 0
			for n := 0; ; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				addr := addrs[at%len(addrs)]
				o, status, _ := tr.order(addr, fmt.Sprintf("t%d-%d", i, n))
				l.mu.Lock()
				l.attempted++
				if status == 200 {
					l.acks = append(l.acks, ack{placed: o, addr: addr, at: time.Now()})
				}
				l.mu.Unlock()
				if status != 200 {
					at++
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	return l
}

// halt stops the load and waits for every request to be answered.
func (l *orderLoad) halt() {
	close(l.stop)
	l.wg.Wait()
}

// count returns how many orders were acknowledged, and by addr ("": any
// server) since since.
func (l *orderLoad) count(addr string, since time.Time) (all, by int, first time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.acks {
		if (addr == "" || a.addr == addr) && a.at.After(since) {
			if by == 0 {
				first = a.at
			}
			by++
		}
	}
	return len(l.acks), by, first
}

// waitAcks waits until n orders were acknowledged by addr after since,
// failing after limit; it returns when the first of them was.
func (l *orderLoad) waitAcks(t *testing.T, n int, addr string, since time.Time, limit time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		all, by, first := l.count(addr, since)
		if by >= n {
			return first
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d orders acknowledged by %s within %v (want %d; %d in all)", by, addr, limit, n, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkAcknowledged checks that every acknowledged order is on the server
// (c) as acknowledged, that no client order id is there twice (no command
// applied twice), that each trader's last acknowledged nonce is refused
// (no nonce mark went back), and that the ledger check passes. It returns
// the orders present.
func checkAcknowledged(t *testing.T, c *testClient, addr string, l *orderLoad, traders []*trader) int {
	t.Helper()
	var v verifyResult
	c.must("GET", "/admin/v1/verify", nil, &v)
	if !v.OK {
		t.Fatalf("admin verify: %+v", v)
	}
	seen := map[string]string{}
	for id := int64(1); id <= v.LastOrderID; id++ {
		var o placed
		status, err := c.do("GET", fmt.Sprintf("/admin/v1/orders/%d", id), nil, &o)
		if err != nil || status != 200 {
			t.Fatalf("order %d: %d %v", id, status, err)
		}
		if prev, ok := seen[o.ClientOrderID]; ok {
			t.Errorf("client order id %s placed twice: orders %s and %s", o.ClientOrderID, prev, o.OrderID)
		}
		seen[o.ClientOrderID] = o.OrderID
	}
	l.mu.Lock()
	acks := append([]ack(nil), l.acks...)
	l.mu.Unlock()
	for _, a := range acks {
		if seen[a.ClientOrderID] != a.OrderID {
			t.Errorf("order %s (%s), acknowledged by %s, is missing (the store has %q under its client id)", a.OrderID, a.ClientOrderID, a.addr, seen[a.ClientOrderID])
		}
	}
	if v.OpenOrders != len(seen) {
		t.Errorf("%d open orders, %d orders: every order rests", v.OpenOrders, len(seen))
	}
	for _, tr := range traders {
		if tr.last.key == "" {
			continue
		}
		if status, reason := tr.last.send(t, addr); status != 400 || reason != "InvalidNonce" {
			t.Errorf("key %s: the last acknowledged order sent again: %d %s, want 400 InvalidNonce (a nonce mark went back)", tr.key[:12], status, reason)
		}
	}
	return len(seen)
}

// cluster starts a leader and a standby on one schema.
func cluster(t *testing.T, bin string) (a, b *server, dir, store string) {
	store, dir = pg.Schema(t), t.TempDir()
	a = startShared(t, bin, dir, store)
	a.waitRole(t, "leader", 10*time.Second)
	b = startShared(t, bin, dir, store)
	b.waitRole(t, "standby", 10*time.Second)
	return a, b, dir, store
}

func traders(t *testing.T, c *testClient, n int) []*trader {
	var ts []*trader
	for i := 0; i < n; i++ {
		ts = append(ts, newTrader(t, c, fmt.Sprintf("trader%d@example.com", i)))
	}
	return ts
}

// failoverKill: SIGKILL the leader under signed-order load. The standby
// serves within 10 s (a generous failure bound; the time is logged), every
// acknowledged order is there, no nonce mark went back, and the ledger
// check passes.
func failoverKill(t *testing.T, bin string) {
	a, b, dir, _ := cluster(t, bin)
	ts := traders(t, newTestClient(t, a.addr, dir), 4)
	l := runLoad(ts, a.addr, b.addr)
	l.waitAcks(t, 100, a.addr, time.Time{}, 20*time.Second)
	killed := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first := l.waitAcks(t, 1, b.addr, killed, 10*time.Second)
	l.waitAcks(t, 20, b.addr, killed, 10*time.Second)
	l.halt()
	n := checkAcknowledged(t, newTestClient(t, b.addr, dir), b.addr, l, ts)
	if out, err := exec.Command(bin, "admin", "--server", "http://"+b.addr, "--data", dir, "verify").CombinedOutput(); err != nil {
		t.Errorf("twinex admin verify on the new leader: %v\n%s", err, out)
	}
	all, byB, _ := l.count(b.addr, killed)
	t.Logf("SIGKILL: the standby's first acknowledged order %v after the kill; %d orders acknowledged (%d by the new leader), %d present, %d attempted",
		first.Sub(killed).Round(time.Millisecond), all, byB, n, l.attempted)
}

// failoverFreeze: SIGSTOP the leader until the standby takes over, then
// SIGCONT it: it steps down (its writes fail through the fence), reports
// standby, refuses orders, and no command is applied twice.
func failoverFreeze(t *testing.T, bin string) {
	a, b, dir, _ := cluster(t, bin)
	ts := traders(t, newTestClient(t, a.addr, dir), 4)
	l := runLoad(ts, a.addr, b.addr)
	l.waitAcks(t, 100, a.addr, time.Time{}, 20*time.Second)
	frozen := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	b.waitRole(t, "leader", 10*time.Second)
	l.waitAcks(t, 20, b.addr, frozen, 10*time.Second)
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	a.waitRole(t, "standby", 10*time.Second)
	l.waitAcks(t, 40, b.addr, frozen, 10*time.Second)
	l.halt()
	if _, status, reason := ts[0].order(a.addr, "to-the-deposed"); status != 503 || reason != "Maintenance" {
		t.Errorf("an order sent to the deposed leader: %d %s, want 503 Maintenance", status, reason)
	}
	n := checkAcknowledged(t, newTestClient(t, b.addr, dir), b.addr, l, ts)
	// Acknowledgements by the old leader all came before the freeze.
	l.mu.Lock()
	for _, x := range l.acks {
		if x.addr == a.addr && x.at.After(frozen.Add(time.Second)) {
			t.Errorf("the deposed leader acknowledged order %s at %v, after the takeover", x.OrderID, x.at.Sub(frozen))
		}
	}
	l.mu.Unlock()
	log := a.stderr.String()
	if !strings.Contains(log, "stepping down") || !strings.Contains(log, "fenced") {
		t.Errorf("the woken leader did not step down after a write failed through the fence; stderr:\n%s", log)
	}
	all, byB, _ := l.count(b.addr, frozen)
	t.Logf("SIGSTOP/SIGCONT: %d orders acknowledged (%d by the new leader), %d present, %d attempted", all, byB, n, l.attempted)
}

// restartCluster: after load, SIGKILL every server, start them again: the
// state is exactly what was acknowledged (all requests were answered before
// the kill).
func restartCluster(t *testing.T, bin string) {
	a, b, dir, store := cluster(t, bin)
	ts := traders(t, newTestClient(t, a.addr, dir), 4)
	l := runLoad(ts, a.addr, b.addr)
	l.waitAcks(t, 200, "", time.Time{}, 20*time.Second) // whoever leads: the restart is what is tested
	l.halt()
	for _, s := range []*server{a, b} {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
	a, b = startShared(t, bin, dir, store), startShared(t, bin, dir, store)
	leader := a
	deadline := time.Now().Add(10 * time.Second)
	for {
		ha, _ := a.health()
		hb, _ := b.health()
		if ha.Role == "leader" || hb.Role == "leader" {
			if hb.Role == "leader" {
				leader = b
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no leader after the restart: %+v %+v", ha, hb)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n := checkAcknowledged(t, newTestClient(t, leader.addr, dir), leader.addr, l, ts)
	all, _, _ := l.count("", time.Time{})
	if n != all || l.attempted != all {
		t.Errorf("after the restart %d orders, %d acknowledged, %d attempted: want them equal", n, all, l.attempted)
	}
	t.Logf("cluster restart: %d orders acknowledged, %d present", all, n)
}

// TestPostgres runs the real binary on PostgreSQL (issue 15): one server
// keeping everything across a restart, the failover scenarios with two
// servers sharing one schema and the default lease (--lease-ttl 3s) renewed every 250 ms, and
// admin migrate. Each has a schema of its own.
func TestPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pg.Schema(t) // skips now, before the build, when PostgreSQL is absent
	bin := buildBinary(t)
	t.Run("StoreKeepsEverything", func(t *testing.T) { storeKeepsEverything(t, bin) })
	t.Run("KillLeader", func(t *testing.T) { failoverKill(t, bin) })
	t.Run("FreezeLeader", func(t *testing.T) { failoverFreeze(t, bin) })
	t.Run("RestartCluster", func(t *testing.T) { restartCluster(t, bin) })
	t.Run("MigrateFromSQLite", func(t *testing.T) { migrateFromSQLite(t, bin) })
}
