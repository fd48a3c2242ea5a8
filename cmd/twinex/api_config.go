package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/twinex/twinex/gemini"
)

// Where `twinex api` finds its server and its credentials.

// apiBaseURL returns the server URL: the flag, else TWINEX_BASE_URL, else
// GEMINI_BASE_URL, else the address of TWINEX_LISTEN, else the default
// address of `twinex serve`.
func apiBaseURL(flagValue string) string {
	u := flagValue
	if u == "" {
		u = envOr("TWINEX_BASE_URL", os.Getenv("GEMINI_BASE_URL"))
	}
	switch u {
	case "sandbox":
		return gemini.SandboxURL
	case "production":
		return gemini.ProductionURL
	case "":
		return "http://" + dialAddr(envOr("TWINEX_LISTEN", "127.0.0.1:8080"))
	}
	if !strings.Contains(u, "://") {
		u = "http://" + u // "127.0.0.1:8080"
	}
	return strings.TrimRight(u, "/")
}

// dialAddr turns a listen address into one to connect to: a server
// listening on every interface (":8080", "0.0.0.0:8080") is reached on the
// loopback address.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// defaultCredentialsPath returns $XDG_CONFIG_HOME/twinex/credentials, else
// ~/.config/twinex/credentials ("" when there is no home directory).
func defaultCredentialsPath() string {
	if dir := os.Getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "twinex", "credentials")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "twinex", "credentials")
}

// displayPath shortens a path under the home directory to ~/...
func displayPath(p string) string {
	if home, err := os.UserHomeDir(); err == nil && home != "" && strings.HasPrefix(p, home+string(filepath.Separator)) {
		return "~" + p[len(home):]
	}
	return p
}

// loadCredentials returns the API key and secret: from the file when one is
// named, else from GEMINI_API_KEY and GEMINI_API_SECRET, else from the
// default file. No error ever includes the secret.
func loadCredentials(file string) (key, secret string, err error) {
	if file != "" {
		return readCredentials(file)
	}
	key, secret = os.Getenv("GEMINI_API_KEY"), os.Getenv("GEMINI_API_SECRET")
	switch {
	case key != "" && secret != "":
		return key, secret, nil
	case key != "":
		return "", "", errors.New("GEMINI_API_KEY is set but GEMINI_API_SECRET is not")
	case secret != "":
		return "", "", errors.New("GEMINI_API_SECRET is set but GEMINI_API_KEY is not")
	}
	def := defaultCredentialsPath()
	if def != "" {
		if _, err := os.Stat(def); err == nil {
			return readCredentials(def)
		}
	}
	where := "~/.config/twinex/credentials"
	if def != "" {
		where = displayPath(def)
	}
	return "", "", fmt.Errorf("no API credentials: this command needs an API key; set GEMINI_API_KEY and GEMINI_API_SECRET, "+
		"or write them to %s (or a file named by --credentials) as GEMINI_API_KEY=... and GEMINI_API_SECRET=... lines, with chmod 600", where)
}

// readCredentials reads a credentials file, refusing one that its group or
// others may access: it holds a secret that can trade and withdraw.
func readCredentials(path string) (key, secret string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("credentials: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", "", fmt.Errorf("credentials: %w", err)
	}
	// Windows has no Unix permission bits to check.
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return "", "", fmt.Errorf("credentials file %s is accessible by others (mode %04o); it holds your API secret: run chmod 600 %s",
			path, perm, path)
	}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			// The line is not quoted back: it may be a bare secret.
			return "", "", fmt.Errorf("credentials file %s, line %d: want NAME=VALUE", path, n)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		switch strings.TrimSpace(name) {
		case "GEMINI_API_KEY":
			key = value
		case "GEMINI_API_SECRET":
			secret = value
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("credentials file %s: %w", path, err)
	}
	if key == "" || secret == "" {
		return "", "", fmt.Errorf("credentials file %s needs both GEMINI_API_KEY=... and GEMINI_API_SECRET=... lines", path)
	}
	return key, secret, nil
}
