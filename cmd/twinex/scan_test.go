package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twinex/twinex/auth"
)

func TestScanExitStatus(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"scan", dir}, &out, &errb); code != 0 || out.Len() != 0 {
		t.Fatalf("clean directory: exit %d, %q %q", code, out.String(), errb.String())
	}
	s, _ := auth.NewSecret()
	os.WriteFile(filepath.Join(dir, "creds.txt"), []byte("secret="+s+"\n"), 0o600)
	code := run(context.Background(), []string{"scan", dir}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "creds.txt:1: Twinex API secret twxs_") || strings.Contains(out.String(), s) {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"scan", filepath.Join(dir, "missing")}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "missing") {
		t.Fatalf("a path that cannot be read: exit %d, %q", code, errb.String())
	}
}
