package twinex_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestNestedModules runs the tests of the modules that live beside Twinex's
// (e2e/ and compat/, joined by go.work): `go test ./...` stops at a nested
// module's go.mod, and the README's one test command must run every test.
// Each module's own tests skip, saying why, when what they need (Chromium,
// Node.js) is missing.
func TestNestedModules(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to run the nested modules' tests with")
		}
	}
	for _, dir := range []string{"e2e", "compat"} {
		t.Run(dir, func(t *testing.T) {
			args := []string{"test"}
			if testing.Short() {
				args = append(args, "-short")
			}
			if testing.Verbose() {
				args = append(args, "-v")
			}
			cmd := exec.Command(goBin, append(args, "./...")...)
			cmd.Dir = dir
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			t.Logf("go %v in %s:\n%s", args, dir, out.String())
			if err != nil {
				t.Fatalf("the tests of %s failed: %v", dir, err)
			}
		})
	}
}
