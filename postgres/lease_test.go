package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex"
	"github.com/twinex/twinex/postgres"
)

// TestLeaseAndFence: one server takes the lease; another cannot while it
// holds it, and takes it with the next token once it lapses. From then on
// every exchange write of the deposed leader fails with ErrFenced and
// writes nothing: the journal's append and truncate, the store's commit,
// projection, checkpoint and journal id, and its key writes.
func TestLeaseAndFence(t *testing.T) {
	ctx := context.Background()
	url := pg.Schema(t)
	a, b := open(t, url), open(t, url)
	ja, err := postgres.OpenJournal(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ja.Close()

	ta, _, err := a.Acquire(ctx, "twinex-a", "127.0.0.1:1", 200*time.Millisecond)
	if err != nil || ta == 0 {
		t.Fatalf("first acquire: token %d, %v", ta, err)
	}
	a.SetFence(ta)
	ja.SetFence(ta)
	if tb, cur, err := b.Acquire(ctx, "twinex-b", "127.0.0.1:2", time.Second); err != nil || tb != 0 || cur.Holder != "twinex-a" || cur.Addr != "127.0.0.1:1" {
		t.Fatalf("acquire of a held lease: token %d, leader %+v, %v", tb, cur, err)
	}
	if err := a.Renew(ctx, ta, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := ja.Append(ctx, []twinex.JournalRecord{{Seq: 1, Data: []byte("one")}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, &twinex.Batch{JournalSeq: 1}); err != nil {
		t.Fatal(err)
	}

	// a stops renewing; b takes over once the lease lapses.
	var tb int64
	for deadline := time.Now().Add(10 * time.Second); tb == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the lapsed lease was never taken over")
		}
		time.Sleep(50 * time.Millisecond)
		if tb, _, err = b.Acquire(ctx, "twinex-b", "127.0.0.1:2", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if tb != ta+1 {
		t.Fatalf("takeover token %d after %d", tb, ta)
	}
	if l, ok, err := a.CurrentLeader(ctx); err != nil || !ok || l.Holder != "twinex-b" || l.Token != tb || l.Expired {
		t.Fatalf("current leader %+v %v %v", l, ok, err)
	}
	if err := a.Renew(ctx, ta, time.Second); !errors.Is(err, postgres.ErrDeposed) {
		t.Fatalf("renewal by the deposed leader: %v", err)
	}
	if err := ja.Append(ctx, []twinex.JournalRecord{{Seq: 2, Data: []byte("two")}}); !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("append by the deposed leader: %v", err)
	}
	for name, write := range map[string]func() error{
		"commit":         func() error { return a.Commit(ctx, &twinex.Batch{JournalSeq: 2}) },
		"project":        func() error { return a.Project(ctx, &twinex.Batch{JournalSeq: 2}) },
		"checkpoint":     func() error { return a.Checkpoint(ctx) },
		"set journal id": func() error { return a.SetJournalID(ctx, "other") },
		"touch keys":     func() error { return a.TouchKeys(ctx, []twinex.KeyUse{{ID: "account-x", Seq: 9}}) },
		"update key":     func() error { return a.UpdateKey(ctx, &twinex.APIKey{ID: "account-x"}) },
	} {
		if err := write(); !errors.Is(err, postgres.ErrFenced) {
			t.Errorf("%s by the deposed leader: %v, want ErrFenced", name, err)
		}
	}
	jb, err := postgres.OpenJournal(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer jb.Close()
	jb.SetFence(tb)
	if err := jb.Truncate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	if err := jb.Replay(ctx, 0, func(r twinex.JournalRecord) error { seqs = append(seqs, r.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 1 || seqs[0] != 1 {
		t.Fatalf("journal after the fenced append: %v, want [1]", seqs)
	}
	if st, err := b.LoadState(ctx); err != nil || st.JournalSeq != 1 {
		t.Fatalf("projected sequence after fenced writes: %v %v", st.JournalSeq, err)
	}
	if err := b.Resign(ctx, tb); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := b.CurrentLeader(ctx); !l.Expired {
		t.Fatalf("lease after resigning: %+v", l)
	}
}

// TestTakeoverEndsAStuckWrite: a write of a frozen leader that passed its
// fence and never finished holds the lease row; the takeover ends that
// leader's database sessions (by application_name), which rolls the write
// back, and takes the lease.
func TestTakeoverEndsAStuckWrite(t *testing.T) {
	ctx := context.Background()
	url := pg.Schema(t)
	ua, err := postgres.WithAppName(url, "twinex-frozen")
	if err != nil {
		t.Fatal(err)
	}
	a, b := open(t, ua), open(t, url)
	ta, _, err := a.Acquire(ctx, "twinex-frozen", "", 100*time.Millisecond)
	if err != nil || ta == 0 {
		t.Fatal(ta, err)
	}
	conn, err := pgx.Connect(ctx, ua)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT twinex_fence($1)`, ta); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO journal (seq, crc, data) VALUES (1, 0, '')`); err != nil {
		t.Fatal(err)
	}
	// A renewal does not wait for writes past their fence (it changes no
	// key column): the leader's commits never stall behind it.
	rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err = a.Renew(rctx, ta, 100*time.Millisecond)
	cancel()
	if err != nil {
		t.Fatalf("renewal while a write holds the fence: %v", err)
	}
	time.Sleep(150 * time.Millisecond) // the lease lapses; the write is stuck
	tb, _, err := b.Acquire(ctx, "twinex-b", "", time.Minute)
	if err != nil || tb != ta+1 {
		t.Fatalf("takeover: %d %v", tb, err)
	}
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("the stuck write committed after the takeover")
	}
	check, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close(ctx)
	var n int
	if err := check.QueryRow(ctx, `SELECT count(*) FROM journal`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("journal rows after the takeover: %d %v", n, err)
	}
}
