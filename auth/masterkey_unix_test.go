//go:build unix

package auth

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestLoadMasterKeyUmask checks that a permissive umask cannot loosen the
// generated key file. The umask is per process; no test here is parallel.
func TestLoadMasterKeyUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dataDir := filepath.Join(t.TempDir(), "data")
	if _, err := LoadMasterKey(dataDir, ""); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dataDir, MasterKeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("generated key has mode %#o under umask 0", info.Mode().Perm())
	}
	dinfo, _ := os.Stat(dataDir)
	if dinfo.Mode().Perm()&0o077 != 0 {
		t.Errorf("created data folder has mode %#o", dinfo.Mode().Perm())
	}
}
