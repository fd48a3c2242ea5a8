package auth

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestLoadMasterKeyFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	raw := bytes.Repeat([]byte{0xa5, 0x00, 0xff, '\n'}, 8) // 32 bytes, ends in a line break
	hexKey := hex.EncodeToString(raw)
	tests := []struct {
		name    string
		data    []byte
		mode    os.FileMode
		want    []byte
		wantErr error // nil: any error when want is nil
	}{
		{"raw 0600", raw, 0o600, raw, nil},
		{"raw 0400", raw, 0o400, raw, nil},
		{"hex", []byte(hexKey), 0o600, raw, nil},
		{"hex with line break", []byte(hexKey + "\n"), 0o600, raw, nil},
		{"upper-case hex, CRLF", []byte(strings.ToUpper(hexKey) + "\r\n"), 0o600, raw, nil},
		{"0644 refused", raw, 0o644, nil, ErrKeyFilePermissions},
		{"0640 refused", raw, 0o640, nil, ErrKeyFilePermissions},
		{"0604 refused", raw, 0o604, nil, ErrKeyFilePermissions},
		{"0620 refused", raw, 0o620, nil, ErrKeyFilePermissions},
		{"empty", nil, 0o600, nil, ErrKeyFileFormat},
		{"31 bytes", raw[:31], 0o600, nil, ErrKeyFileFormat},
		{"33 bytes", append(bytes.Clone(raw), 1), 0o600, nil, ErrKeyFileFormat},
		{"128-bit hex key", []byte(hexKey[:32]), 0o600, nil, ErrKeyFileFormat},
		{"63 hex digits", []byte(hexKey[:63]), 0o600, nil, ErrKeyFileFormat},
		{"not hex", []byte(strings.Repeat("zz", 32)), 0o600, nil, ErrKeyFileFormat},
		{"base64", []byte("paUA/wqlAP8KpQD/CqUA/wqlAP8KpQD/CqUA/wqlAP8K\n"), 0o600, nil, ErrKeyFileFormat},
		{"huge", bytes.Repeat([]byte("a"), 1<<20), 0o600, nil, ErrKeyFileFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, dir, "key", tt.data, tt.mode)
			key, err := LoadMasterKey(filepath.Join(dir, "data"), path)
			if tt.want == nil {
				if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("LoadMasterKey = %x, %v; want %v", key, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), hexKey[:16]) {
					t.Errorf("error leaks key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadMasterKey: %v", err)
			}
			if !bytes.Equal(key, tt.want) {
				t.Fatalf("key %x, want %x", key, tt.want)
			}
		})
	}
}

func TestLoadMasterKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	// A configured key file is never created.
	if _, err := LoadMasterKey(dir, filepath.Join(dir, "missing.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key file was created")
	}
	// A directory is not a key file.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	if _, err := LoadMasterKey(dir, sub); err == nil {
		t.Error("a directory was accepted as key file")
	}
	if runtime.GOOS == "windows" {
		return
	}
	// The message tells the operator what to do.
	path := writeFile(t, dir, "loose.key", bytes.Repeat([]byte{1}, 32), 0o644)
	_, err := LoadMasterKey(dir, path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
		t.Errorf("loose key file: %v", err)
	}
}

func TestLoadMasterKeyGenerated(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data") // not there yet
	key, err := LoadMasterKey(dataDir, "")
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	if len(key) != MasterKeySize || bytes.Equal(key, make([]byte, MasterKeySize)) {
		t.Fatalf("generated key %x", key)
	}
	path := filepath.Join(dataDir, MasterKeyFileName)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("mode %#o, want 0600", info.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if string(data) != hex.EncodeToString(key)+"\n" {
		t.Errorf("file holds %q", data)
	}

	// Later starts read the same key.
	again, err := LoadMasterKey(dataDir, "")
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second start: %x, %v; want %x", again, err, key)
	}

	// Another data folder gets another key.
	other, err := LoadMasterKey(t.TempDir(), "")
	if err != nil || bytes.Equal(other, key) {
		t.Fatalf("other folder: %x, %v", other, err)
	}

	if runtime.GOOS == "windows" {
		return
	}
	// An existing key with loose permissions is refused, not replaced.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMasterKey(dataDir, ""); !errors.Is(err, ErrKeyFilePermissions) {
		t.Fatalf("loose generated key: %v", err)
	}
	if data2, _ := os.ReadFile(path); !bytes.Equal(data2, data) {
		t.Fatal("the key file was rewritten")
	}
}

// TestCreateKeyFileExclusive checks that generation never overwrites a
// file: it is O_EXCL.
func TestCreateKeyFileExclusive(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, MasterKeyFileName, []byte("precious"), 0o600)
	if _, err := createKeyFile(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("createKeyFile over an existing file: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "precious" {
		t.Fatalf("existing file overwritten: %q", data)
	}
}
