package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// MasterKeySize is the size of the master key: AES-256.
const MasterKeySize = 32

// MasterKeyFileName is the master key's file in the data folder when no key
// file is configured.
const MasterKeyFileName = "master.key"

// maxKeyFileSize bounds what LoadMasterKey reads: a hex key with a line
// break is 65 bytes.
const maxKeyFileSize = 1024

// ErrKeyFilePermissions is wrapped by LoadMasterKey's error when the key
// file can be read or written by its group or by others. Production mode
// refuses to start on it (DESIGN: "a world-readable master key").
var ErrKeyFilePermissions = errors.New("master key file is accessible by group or others")

// ErrKeyFileFormat is wrapped by LoadMasterKey's error when the key file
// holds neither 32 raw bytes nor 64 hex digits.
var ErrKeyFileFormat = errors.New("master key file must hold 32 raw bytes or 64 hex digits")

// LoadMasterKey returns the 32-byte master key that seals API secrets and
// TOTP seeds in the store.
//
// If keyFile is not empty the key is read from it and never created. Else
// it is <dataDir>/master.key, created at first start with 32 bytes from
// crypto/rand, written as 64 hex digits and a line break (easy to back up
// or move to a keyFile), with mode 0600 and O_EXCL, so that two processes
// starting at once cannot both create one; the file and the folder are
// synced, as losing the key loses every sealed secret.
//
// A key file holds 32 raw bytes, or 64 hex digits (either case) with
// optional surrounding whitespace. A 32-byte file of hex digits only is
// refused as ambiguous: it is much likelier a 128-bit hex key than random
// bytes. Other contents give an error wrapping ErrKeyFileFormat.
//
// Except on Windows, a key file (configured or generated earlier) whose
// mode has any group or other bit (0640, 0644, 0604, ...) is refused with
// an error wrapping ErrKeyFilePermissions that says how to fix it; so is
// anything but a regular file. The errors are for the operator and contain
// paths, never key material.
func LoadMasterKey(dataDir string, keyFile string) ([]byte, error) {
	if keyFile != "" {
		return readKeyFile(keyFile)
	}
	path := filepath.Join(dataDir, MasterKeyFileName)
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key, err = createKeyFile(path)
	if errors.Is(err, fs.ErrExist) { // another process created it just now
		return readKeyFile(path)
	}
	return key, err
}

// readKeyFile reads and checks a key file.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	defer f.Close()
	info, err := f.Stat() // of the open file, so no swap between check and read
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("master key: %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("master key: %s has mode %#o: %w; run: chmod 600 %s", path, perm, ErrKeyFilePermissions, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	key, err := decodeKey(data)
	if err != nil {
		return nil, fmt.Errorf("master key: %s: %w", path, err)
	}
	return key, nil
}

// decodeKey decodes raw or hex key file contents.
func decodeKey(data []byte) ([]byte, error) {
	if len(data) == MasterKeySize {
		if isHex(data) {
			return nil, fmt.Errorf("%w (this looks like a 128-bit key in hex)", ErrKeyFileFormat)
		}
		return bytes.Clone(data), nil
	}
	t := bytes.TrimSpace(data)
	if len(t) != 2*MasterKeySize || !isHex(t) {
		return nil, fmt.Errorf("%w (found %d bytes)", ErrKeyFileFormat, len(data))
	}
	key := make([]byte, MasterKeySize)
	hex.Decode(key, t) // checked by isHex
	return key, nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// createKeyFile generates a key into a new file at path.
func createKeyFile(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		// A half-written key file would refuse every later start.
		os.Remove(path)
		return nil, fmt.Errorf("master key: create %s: %w", path, err)
	}
	return key, nil
}

// syncDir makes a new directory entry durable. Windows cannot sync a
// directory, and needs not.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
