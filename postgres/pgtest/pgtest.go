// Package pgtest gives each test a PostgreSQL schema of its own, dropped
// when the test ends, and skips the test with a clear message when no
// PostgreSQL answers. Only tests import it.
//
// The server is the one TWINEX_TEST_POSTGRES names (a postgres:// URL or a
// key=value string), by default DefaultURL: a local server with trust
// authentication and a database called test, as in CI. With
// TWINEX_TEST_POSTGRES_REQUIRED=1 a missing server fails the tests instead,
// so that a CI job meant to run them cannot pass by skipping them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server the tests use when TWINEX_TEST_POSTGRES is not
// set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Environment variables the tests read.
const (
	EnvURL      = "TWINEX_TEST_POSTGRES"
	EnvRequired = "TWINEX_TEST_POSTGRES_REQUIRED"
)

// StartHint says how to start the server that CI has.
const StartHint = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

// ServerURL returns the URL of the test server.
func ServerURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// Schema creates a new, empty schema for tb's test and returns a URL of
// the test server whose search_path names it, for postgres.Open. The
// schema and everything in it is dropped when the test ends. Schema skips
// the test (fails it under TWINEX_TEST_POSTGRES_REQUIRED=1) when the
// server is not reachable.
func Schema(tb testing.TB) string {
	tb.Helper()
	server := ServerURL()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn := connect(ctx, tb, server)
	defer conn.Close(context.Background())
	var b [6]byte
	rand.Read(b[:])
	name := "twinex_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	u, err := withSearchPath(server, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return u
}

// unreachable remembers, per server, why it could not be reached, so that a
// server that drops packets costs one connect timeout per test binary
// rather than one per test. It is the package's only state, a cache of a
// fact about the machine the tests run on.
var unreachable struct {
	sync.Mutex
	why map[string]string
}

// connect connects to the server, or skips (or fails) tb with how to
// start it.
func connect(ctx context.Context, tb testing.TB, server string) *pgx.Conn {
	tb.Helper()
	cfg, err := pgx.ParseConfig(server)
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	unreachable.Lock()
	why, known := unreachable.why[server]
	unreachable.Unlock()
	if !known {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			return conn
		}
		why = err.Error()
		unreachable.Lock()
		if unreachable.why == nil {
			unreachable.why = map[string]string{}
		}
		unreachable.why[server] = why
		unreachable.Unlock()
	}
	msg := fmt.Sprintf("PostgreSQL not reachable at %s:%d (%s); start it with: %s, or set %s",
		cfg.Host, cfg.Port, why, StartHint, EnvURL)
	if os.Getenv(EnvRequired) == "1" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return nil
}

// withSearchPath returns server with search_path set to schema.
func withSearchPath(server, schema string) (string, error) {
	if !strings.HasPrefix(server, "postgres://") && !strings.HasPrefix(server, "postgresql://") {
		return server + " search_path=" + schema, nil
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("%s does not parse", EnvURL)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Schemas hands out one schema per directory, so that the contract suites,
// which reopen a store by opening the same directory again, find their
// data in PostgreSQL too. The zero value is ready to use.
type Schemas struct {
	mu   sync.Mutex
	urls map[string]string
}

// For returns the URL of dir's schema, creating it (dropped when tb's test
// ends) on the first call for dir.
func (s *Schemas) For(tb testing.TB, dir string) string {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.urls[dir]; ok {
		return u
	}
	u := Schema(tb)
	if s.urls == nil {
		s.urls = map[string]string{}
	}
	s.urls[dir] = u
	return u
}
