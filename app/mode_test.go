package app

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCheckProduction(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	for _, c := range []struct {
		listen  string
		trusted []netip.Prefix
		ok      bool
	}{
		{"127.0.0.1:8080", nil, true},
		{"[::1]:8080", nil, true},
		{"localhost:8080", nil, true},
		{"0.0.0.0:8080", nil, false},
		{":8080", nil, false},
		{"192.0.2.10:443", nil, false},
		{"0.0.0.0:8080", proxy, true},
		{"nonsense", nil, false},
	} {
		if err := checkProduction(c.listen, c.trusted); (err == nil) != c.ok {
			t.Errorf("checkProduction(%q, %v) = %v", c.listen, c.trusted, err)
		}
	}
	for in, want := range map[string]Mode{"": Sandbox, "SANDBOX": Sandbox, "production": Production} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("staging"); err == nil {
		t.Error("ParseMode accepted staging")
	}
}

// TestPrivateFiles: a data directory others can reach is refused in
// production (and only warned about in the sandbox); an admin token file
// others can read is refused in both modes.
func TestPrivateFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	ctx := context.Background()
	// A 0755 folder is out of others' reach inside a 0700 one (as
	// t.TempDir's are): open up the parent, as a volume's would be.
	dir := t.TempDir()
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Dir(dir), 0o700)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := &App{Listen: "127.0.0.1:0", DataDir: dir, Mode: Production}
	if err := a.Open(ctx); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		a.Close()
		t.Fatalf("production with a 0755 data directory: %v", err)
	}
	a = &App{Listen: "127.0.0.1:0", DataDir: dir, Mode: Sandbox}
	if err := a.Open(ctx); err != nil {
		t.Fatalf("sandbox with a 0755 data directory: %v", err)
	}
	a.Close()
	for _, name := range []string{"twinex.db", "twinex-log.db", "admin.token", "master.key"} {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", name, info.Mode(), err)
		}
	}
	os.Chmod(dir, 0o700)
	os.Chmod(filepath.Join(dir, "admin.token"), 0o644)
	a = &App{Listen: "127.0.0.1:0", DataDir: dir, Mode: Sandbox}
	if err := a.Open(ctx); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		a.Close()
		t.Fatalf("an admin token readable by others: %v", err)
	}
}
