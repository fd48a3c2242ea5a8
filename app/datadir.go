package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/fault"
)

// The settings files of a data directory (faults.json, markets.json,
// admin.token) and its permissions.

// loadFaults makes the sandbox's fault injector, with the rules of
// <data>/faults.json if there is one.
func loadFaults(dir string) (*fault.Injector, error) {
	inj := fault.New(uint64(time.Now().UnixNano()))
	rules, err := fault.LoadFile(filepath.Join(dir, "faults.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return inj, nil
	}
	if err != nil {
		return nil, fmt.Errorf("faults.json: %w", err)
	}
	for _, r := range rules {
		if r.DropSockets {
			// An action on the sockets open at the time: at start there
			// are none, so the rule would do nothing.
			return nil, fmt.Errorf("faults.json: rule %q: drop_sockets acts once, on the sockets open at the time; use twinex admin fault add --drop-sockets", r.ID)
		}
		if _, err := inj.Add(r); err != nil {
			return nil, fmt.Errorf("faults.json: %w", err)
		}
	}
	return inj, nil
}

// loadMarkets reads <data>/markets.json if present, else the defaults.
func loadMarkets(dir string) (*twinex.Markets, error) {
	data, err := os.ReadFile(filepath.Join(dir, "markets.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return twinex.DefaultMarkets(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("markets.json: %w", err)
	}
	cfg, err := twinex.ParseMarketConfig(data)
	if err != nil {
		return nil, fmt.Errorf("markets.json: %w", err)
	}
	ms, err := cfg.Validate()
	if err != nil {
		return nil, fmt.Errorf("markets.json: %w", err)
	}
	return ms, nil
}

// checkDataDir returns an error when others than its owner may enter or
// list the data directory: it has a group or other bit, and every folder
// above it lets its group or others pass (a 0755 folder inside a 0700 one
// is out of their reach). Not checked on Windows. The databases in it are
// created 0600 anyway; a private folder also hides their names and sizes
// and keeps out whatever a future version writes there. Production refuses
// to start; the sandbox warns.
func checkDataDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	perm := info.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		if up, err := os.Stat(p); err == nil && up.Mode().Perm()&0o011 == 0 {
			return nil // nobody but its owner gets past this one
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	return fmt.Errorf("data directory %s has mode %#o: its group or others can reach it; run: chmod 700 %s", dir, perm, dir)
}

// readPrivate reads a secret file, refusing one that is not a regular file
// or that its group or others may read or write (as the master key is
// refused): a token anyone on the machine can read is no secret.
func readPrivate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%s has mode %#o: its group or others can read it; run: chmod 600 %s", path, perm, path)
	}
	return io.ReadAll(io.LimitReader(f, 4096))
}

// adminToken returns token when set (TWINEX_ADMIN_TOKEN), or the token in
// <data>/admin.token, generating it (mode 0600) at first start.
func adminToken(dir, token string) (string, error) {
	if token != "" {
		return token, nil
	}
	path := filepath.Join(dir, "admin.token")
	data, err := readPrivate(path)
	if err == nil {
		if t := strings.TrimSpace(string(data)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("%s is empty", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("admin token: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	t := hex.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	if _, err := f.WriteString(t + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("admin token: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return t, nil
}
