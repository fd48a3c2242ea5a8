package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twinex/twinex/gemini"
)

func TestSandboxDemoAccount(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var out bytes.Buffer
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, Stdout: &out}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DemoCredentialsFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo credentials %v %v", fi, err)
	}
	creds, _ := os.ReadFile(path)
	var key, secret string
	for _, line := range strings.Split(string(creds), "\n") {
		if v, ok := strings.CutPrefix(line, "GEMINI_API_KEY="); ok {
			key = v
		}
		if v, ok := strings.CutPrefix(line, "GEMINI_API_SECRET="); ok {
			secret = v
		}
	}
	if !strings.Contains(out.String(), key) || !strings.Contains(out.String(), "demo@twinex.local") {
		t.Fatalf("banner does not show the demo key:\n%s", out.String())
	}
	c := gemini.New("http://"+a.Addr(), key, secret)
	bals, err := c.Balances(ctx)
	if err != nil || len(bals) != len(demoFunds) {
		t.Fatalf("demo balances %+v %v", bals, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// A restart keeps the same demo account and key.
	b := &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := b.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	again, _ := os.ReadFile(path)
	if !bytes.Equal(again, creds) {
		t.Fatal("the demo credentials changed at restart")
	}
	if _, err := gemini.New("http://"+b.Addr(), key, secret).Balances(ctx); err != nil {
		t.Fatalf("demo key after a restart: %v", err)
	}
}

func TestProductionHasNoDemo(t *testing.T) {
	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, Mode: Production}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := os.Stat(filepath.Join(dir, DemoCredentialsFile)); !os.IsNotExist(err) {
		t.Fatalf("production made a demo account: %v", err)
	}
	b := &App{Listen: "0.0.0.0:0", DataDir: t.TempDir(), Mode: Production}
	if err := b.Open(context.Background()); err == nil {
		b.Close()
		t.Fatal("production listened beyond loopback without a trusted proxy")
	}
}

func TestKYCReviewChoice(t *testing.T) {
	for _, c := range []struct {
		mode   Mode
		review string
		ok     bool
	}{{Production, "auto", false}, {Sandbox, "sometimes", false}, {Production, "manual", true}, {Sandbox, "manual", true}} {
		a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Mode: c.mode, KYCReview: c.review, Sim: false}
		err := a.Open(context.Background())
		if err == nil {
			a.Close()
		}
		if (err == nil) != c.ok {
			t.Errorf("%s with --kyc-review=%s: %v", c.mode, c.review, err)
		}
	}
}
