package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/sqlite"
)

// TestActivityLogged: accepted and refused requests that name a key are
// recorded, including those of unknown keys, and survive a restart.
func TestActivityLogged(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir}
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
	base := "http://" + a.Addr()
	if _, err := gemini.New(base, key, secret).Balances(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := gemini.New(base, key, "wrong-secret").Balances(ctx); !gemini.IsReason(err, "InvalidSignature") {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := gemini.New(base, "account-doesnotexist00000", "x").Balances(ctx); err == nil {
		t.Fatal("unknown key accepted")
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
	recs, err := db.Activity(ctx, twinex.ActivityFilter{UserID: demo.ID})
	if err != nil || len(recs) != 2 {
		t.Fatalf("demo activity %+v %v", recs, err)
	}
	if recs[0].Reason != twinex.InvalidSignature || recs[0].Status != 400 || recs[1].Reason != "" || recs[1].Status != 200 ||
		recs[1].Path != "/v1/balances" || recs[1].IP != "127.0.0.1" || recs[1].KeyID != key || recs[1].AccountID == 0 {
		t.Fatalf("records %+v", recs)
	}
	unknown, err := db.Activity(ctx, twinex.ActivityFilter{UnknownKeys: true})
	if err != nil || len(unknown) != 1 || unknown[0].KeyID != "account-doesnotexist00000" {
		t.Fatalf("unknown-key activity %+v %v", unknown, err)
	}
}
