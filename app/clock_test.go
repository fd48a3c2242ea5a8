package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/sqlite"
)

// TestAppClock: an App built with a fixed clock stamps what it makes with
// it, not with the real time: the demo user it provisions and the activity
// record of a signed request.
func TestAppClock(t *testing.T) {
	fixed := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return fixed }
	dir := t.TempDir()
	ctx := context.Background()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, Now: clock}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	creds, _ := os.ReadFile(filepath.Join(dir, DemoCredentialsFile))
	var key, secret string
	for _, line := range strings.Split(string(creds), "\n") {
		if v, ok := strings.CutPrefix(line, "GEMINI_API_KEY="); ok {
			key = v
		}
		if v, ok := strings.CutPrefix(line, "GEMINI_API_SECRET="); ok {
			secret = v
		}
	}
	// The client's nonce is read from the same clock, so that the server
	// finds it in its window.
	if _, err := gemini.New("http://"+a.Addr(), key, secret, gemini.WithClock(clock)).Balances(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // drains the recorder
		t.Fatal(err)
	}

	db, err := sqlite.Open(filepath.Join(dir, "twinex.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	demo, err := db.UserByEmail(ctx, DemoEmail)
	if err != nil {
		t.Fatal(err)
	}
	if demo.Created != fixed.UnixNano() {
		t.Errorf("demo user created at %v, want the App's clock %v", time.Unix(0, demo.Created).UTC(), fixed)
	}
	recs, err := db.Activity(ctx, twinex.ActivityFilter{UserID: demo.ID})
	if err != nil || len(recs) != 1 {
		t.Fatalf("demo activity %+v %v", recs, err)
	}
	if recs[0].Time != fixed.UnixNano() {
		t.Errorf("activity stamped %v, want the App's clock %v", time.Unix(0, recs[0].Time).UTC(), fixed)
	}
}
