package postgres

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

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
