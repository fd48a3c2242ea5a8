package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/sqlite"
)

// TestLogMovesToItsOwnFile: a database from before the log had a file of
// its own keeps its records, copied into the log's file before migration
// 0010 drops the tables from the main file.
func TestLogMovesToItsOwnFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "twinex.db")
	open(t, path).Close()
	if sqlite.LogPath(path) != filepath.Join(filepath.Dir(path), "twinex-log.db") {
		t.Fatalf("log path %s", sqlite.LogPath(path))
	}
	// As migrations 0008 and 0009 left a database before migration 0010.
	// Done twice: the second time is a crash after the copy was committed
	// and before the tables were dropped.
	for range 2 {
		oldTables(t, path)
		// Twice: the second open finds nothing left to move.
		for range 2 {
			db := open(t, path)
			recs, err := db.Activity(ctx, twinex.ActivityFilter{UserID: 1})
			if err != nil || len(recs) != 1 || recs[0].ID != 7 || recs[0].Path != "/v1/balances" {
				t.Fatalf("moved records %+v %v", recs, err)
			}
			if u, err := db.Usage(ctx, "account-k", 0, 10); err != nil || len(u) != 1 || u[0].Counted != 1 {
				t.Fatalf("moved usage %+v %v", u, err)
			}
			db.Close()
		}
	}
	raw := rawDB(t, path)
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name IN ('activity', 'usage')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("tables left in the main file: %d %v", n, err)
	}
	if _, err := os.Stat(sqlite.LogPath(path)); err != nil {
		t.Fatal(err)
	}
}

// oldTables gives the database at path the log's tables with a record
// each, and forgets migration 0010, as an older binary left it.
func oldTables(t *testing.T, path string) {
	t.Helper()
	raw := rawDB(t, path)
	defer raw.Close()
	for _, q := range []string{
		`CREATE TABLE activity (id INTEGER PRIMARY KEY, time BIGINT NOT NULL, key_id TEXT NOT NULL, user_id BIGINT NOT NULL,
			account_id BIGINT NOT NULL, ip TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, reason TEXT NOT NULL,
			status INTEGER NOT NULL, latency BIGINT NOT NULL)`,
		`CREATE TABLE usage (key_id TEXT NOT NULL, minute BIGINT NOT NULL, requests BIGINT NOT NULL, errors BIGINT NOT NULL,
			counted BIGINT NOT NULL, PRIMARY KEY (key_id, minute)) WITHOUT ROWID`,
		`INSERT INTO activity VALUES (7, 120000000000, 'account-k', 1, 100, '192.0.2.1', 'POST', '/v1/balances', '', 200, 50)`,
		`INSERT INTO usage VALUES ('account-k', 2, 1, 0, 1)`,
		`DELETE FROM schema_migrations WHERE version = 10`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAddActivityInChunks: a batch that takes every statement size (64,
// 8 and single rows) keeps every record and field, and its usage.
func TestAddActivityInChunks(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "twinex.db"))
	defer db.Close()
	const n = 64 + 2*8 + 3
	var recs []twinex.Activity
	for i := range n {
		recs = append(recs, twinex.Activity{Time: int64(1_800_000_000+i) * 1e9, KeyID: "account-chunk", UserID: 7, AccountID: 9,
			IP: "192.0.2.1", Method: "POST", Path: "/v1/order/new", Status: 200, Latency: int64(i), Authenticated: true, Counted: i%2 == 0})
	}
	if err := db.AddActivity(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := db.Activity(ctx, twinex.ActivityFilter{UserID: 7, Limit: 1000})
	if err != nil || len(got) != n {
		t.Fatalf("%d records, %v; want %d", len(got), err, n)
	}
	for i, a := range got { // newest first
		want := recs[n-1-i]
		want.ID, want.Authenticated, want.Counted = a.ID, false, false
		if a != want {
			t.Fatalf("record %d: %+v, want %+v", i, a, want)
		}
	}
	counted, err := db.CountedSince(ctx, 0)
	if err != nil || counted["account-chunk"] != (n+1)/2 {
		t.Fatalf("counted %v %v, want %d", counted, err, (n+1)/2)
	}
}

// BenchmarkAddActivity writes batches of 512 records, about what the
// activity log gathers in 250 ms at 2,000 signed requests a second.
func BenchmarkAddActivity(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "twinex.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	recs := make([]twinex.Activity, 512)
	for i := range recs {
		recs[i] = twinex.Activity{Time: int64(1_800_000_000+i) * 1e9, KeyID: "account-bench", UserID: 7, AccountID: 9,
			IP: "192.0.2.1", Method: "POST", Path: "/v1/order/new", Status: 200, Latency: 800, Authenticated: true, Counted: true}
	}
	b.ResetTimer()
	for range b.N {
		if err := db.AddActivity(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}
