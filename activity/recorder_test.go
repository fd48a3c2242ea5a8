package activity

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

type memStore struct {
	mu      sync.Mutex
	recs    []twinex.Activity
	batches int
	pruned  int64 // the last cutoff
	usage   int64 // the last usage cutoff (Unix minutes)
}

func (m *memStore) PruneUsage(_ context.Context, minute int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage = minute
	return nil
}

func (m *memStore) AddActivity(_ context.Context, rs []twinex.Activity) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, rs...)
	m.batches++
	return nil
}

func (m *memStore) Activity(context.Context, twinex.ActivityFilter) ([]twinex.Activity, error) {
	return nil, nil
}

func (m *memStore) PruneActivity(_ context.Context, before int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruned = before
	return 0, nil
}

func TestRecorderBatchesAndDrains(t *testing.T) {
	st := &memStore{}
	r := New(st, 48*time.Hour, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	for i := range 10000 {
		r.Record(twinex.Activity{Time: int64(i), KeyID: "k"})
	}
	r.Flush(context.Background())
	st.mu.Lock()
	n, batches, cutoff, usage := len(st.recs), st.batches, st.pruned, st.usage
	st.mu.Unlock()
	// The log keeps 48 hours; its usage rollup keeps the 31 days charts
	// and quotas need.
	if want := time.Now().Add(-UsageRetention).Unix() / 60; usage > want || usage < want-2 {
		t.Fatalf("usage pruned before minute %d, want about %d", usage, want)
	}
	if n != 10000 || batches > 10000/2 {
		t.Fatalf("%d records in %d batches", n, batches)
	}
	if want := time.Now().Add(-48 * time.Hour).UnixNano(); cutoff > want || cutoff < want-int64(time.Minute) {
		t.Fatalf("pruned before %d, want about %d", cutoff, want)
	}
	// Records queued just before shutdown are written.
	for range 5 {
		r.Record(twinex.Activity{KeyID: "late"})
	}
	cancel()
	<-done
	if len(st.recs) != 10005 || r.Dropped() != 0 {
		t.Fatalf("%d records after shutdown, %d dropped", len(st.recs), r.Dropped())
	}
}

func TestRecorderNeverBlocks(t *testing.T) {
	r := New(&memStore{}, 0, nil) // not running: the buffer fills
	for range bufferSize + 10 {
		r.Record(twinex.Activity{})
	}
	if r.Dropped() != 10 {
		t.Fatalf("dropped %d, want 10", r.Dropped())
	}
}
