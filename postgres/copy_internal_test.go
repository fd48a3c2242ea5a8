package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex"
	"github.com/twinex/twinex/postgres/pgtest"
)

func copyTestOrders(n int, filled int64) []twinex.Order {
	os := make([]twinex.Order, n)
	for i := range os {
		id := int64(i + 1)
		os[i] = twinex.Order{ID: id, AccountID: 100 + id%3, Session: "UI", Market: "btcusd", Side: twinex.Buy,
			Type: twinex.Limit, Price: 100, Amount: 10, Filled: filled, Status: twinex.StatusLive, Seq: id, Created: id, Updated: id + filled}
	}
	return os
}

// A batch large enough to be written with COPY: an order taken as new
// (above the largest id this store wrote) that another writer stored is
// found by the key's violation, and the batch is written again with every
// order upserted; and the COPY's transaction is fenced like the others.
func TestCopiedBatches(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.FromEnv(os.Getenv)
	db, err := Open(ctx, pg.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	token, _, err := db.Acquire(ctx, "twinex-a", "127.0.0.1:1", time.Minute)
	if err != nil || token == 0 {
		t.Fatalf("acquire: %d, %v", token, err)
	}
	db.SetFence(token)
	n := copyAtLeast + 44
	if err := db.Commit(ctx, &twinex.Batch{Orders: copyTestOrders(n, 0)}); err != nil {
		t.Fatal(err)
	}
	// As if another writer had stored them: this store takes them as new.
	db.x.high = 0
	changed := copyTestOrders(n, 4)
	if err := db.Commit(ctx, &twinex.Batch{Orders: changed}); err != nil {
		t.Fatalf("commit of stored orders taken as new: %v", err)
	}
	for _, want := range changed {
		if got, err := db.Order(ctx, want.ID); err != nil || got != want {
			t.Fatalf("Order(%d) = %+v, %v\nwant %+v", want.ID, got, err, want)
		}
	}

	db.SetFence(token + 1) // a token that does not lead
	more := copyTestOrders(2*n, 0)[n:]
	if err := db.Commit(ctx, &twinex.Batch{Orders: more}); !errors.Is(err, ErrFenced) {
		t.Fatalf("copied batch under a stale token: %v, want ErrFenced", err)
	}
	if _, err := db.Order(ctx, more[0].ID); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("an order of the fenced batch: %v, want not found", err)
	}
}

// The binary copy encoding: the header, each tuple's field count and
// fields (a SMALLINT in two bytes, a BIGINT in eight, text as its bytes)
// and the trailer; a value that does not fit its SMALLINT column is an
// error naming the column, which copyThenSend returns before sending.
func TestCopyEncoding(t *testing.T) {
	spec := cols("a, b:small, c:text")
	type row struct {
		a, b int64
		c    string
	}
	put := func(c *columns, r *row) { c.int(r.a); c.int(r.b); c.str(r.c) }
	rows := make([]row, copyAtLeast)
	for i := range rows {
		rows[i] = row{a: int64(i) - 1, b: int64(i % 3), c: "x"}
	}
	var c columns
	jobs := copyOrQueue(&pgx.Batch{}, nil, true, "t", &c, spec, "", rows, put)
	if len(jobs) != 1 || c.err != nil {
		t.Fatalf("jobs %d, err %v", len(jobs), c.err)
	}
	want := []byte(copyHeader)
	for _, r := range rows {
		want = append(want, 0, 3)
		want = append(want, 0, 0, 0, 8)
		want = binary.BigEndian.AppendUint64(want, uint64(r.a))
		want = append(want, 0, 0, 0, 2, 0, byte(r.b))
		want = append(want, 0, 0, 0, 1, 'x')
	}
	want = append(want, 0xff, 0xff)
	if !bytes.Equal(c.bin, want) {
		t.Fatalf("encoded %d bytes, want %d:\n% x\nwant\n% x", len(c.bin), len(want), c.bin[:64], want[:64])
	}
	if got := jobs[0].sql(); got != "COPY t (a, b, c) FROM STDIN (FORMAT binary)" {
		t.Fatalf("sql %q", got)
	}

	rows[7].b = 1 << 15
	copyOrQueue(&pgx.Batch{}, nil, true, "t", &c, spec, "", rows, put)
	if c.err == nil || !strings.Contains(c.err.Error(), "column b") {
		t.Fatalf("b = %d: err %v, want one naming column b", rows[7].b, c.err)
	}
	if err := copyThenSend(context.Background(), nil, 0, []copyJob{{table: "t", c: &c}}, &pgx.Batch{}); err == nil {
		t.Fatal("copyThenSend sent a job that failed to encode")
	}
	// The same buffers, reused for a batch that fits, hold it alone.
	rows[7].b = 1
	copyOrQueue(&pgx.Batch{}, nil, true, "t", &c, spec, "", rows, put)
	if c.err != nil || len(c.bin) != len(want) {
		t.Fatalf("reused: err %v, %d bytes, want %d", c.err, len(c.bin), len(want))
	}
}
