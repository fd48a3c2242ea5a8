// Package pgtest gives each test a PostgreSQL schema of its own, dropped
// when the test ends, and skips the test with a clear message when no
// PostgreSQL answers. Only tests import it.
//
// A test binary describes its server once, from the environment its tests
// read (only cmd/twinex and tests read the environment):
//
//	var pg = pgtest.FromEnv(os.Getenv)
//
// TWINEX_TEST_POSTGRES names the server (a postgres:// URL or a key=value
// string), by default DefaultURL: a local server with trust authentication
// and a database called test, as in CI. With TWINEX_TEST_POSTGRES_REQUIRED=1
// a missing server fails the tests instead of skipping them, so that a CI
// job meant to run them cannot pass without them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server the tests use when TWINEX_TEST_POSTGRES is not
// set: CI's, with trust authentication and a database called test. Its
// role is postgres or, where there is none, the name of the user running
// the tests (root in a container), which is tried next.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// defaultURLs are the URLs tried, in order, when TWINEX_TEST_POSTGRES is
// not set; without a user, the connection takes the user's name.
var defaultURLs = []string{DefaultURL, "postgres://127.0.0.1:5432/test?sslmode=disable"}

// Environment variables FromEnv reads.
const (
	EnvURL      = "TWINEX_TEST_POSTGRES"
	EnvRequired = "TWINEX_TEST_POSTGRES_REQUIRED"
)

// StartHint says how to start the server that CI has.
const StartHint = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

// Server is the PostgreSQL server tests make their schemas in. A test
// binary shares one, so that a server that cannot be reached is tried once
// (a server that drops packets then costs one connect timeout, not one per
// test).
type Server struct {
	URL      string // "" tries DefaultURL, then the same server as the user running the tests
	Required bool   // fail the tests, rather than skip them, without a server

	mu          sync.Mutex
	tried       bool
	url         string // the URL that connected, once tried
	unreachable string // why none connected, once tried
}

// FromEnv returns the server that TWINEX_TEST_POSTGRES and
// TWINEX_TEST_POSTGRES_REQUIRED describe; pass os.Getenv.
func FromEnv(getenv func(string) string) *Server {
	return &Server{URL: getenv(EnvURL), Required: getenv(EnvRequired) == "1"}
}

// Schema creates a new, empty schema for tb's test and returns a URL of
// the server whose search_path names it, for postgres.Open. The schema and
// everything in it is dropped when the test ends. Schema skips the test
// (fails it when Required) when the server is not reachable.
func (s *Server) Schema(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn := s.connect(ctx, tb)
	defer conn.Close(context.Background())
	s.mu.Lock()
	server := s.url
	s.mu.Unlock()
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

// connect connects to the server, or skips (or fails) tb with how to
// start it. The first call finds the URL that connects and remembers it,
// or why none did.
func (s *Server) connect(ctx context.Context, tb testing.TB) *pgx.Conn {
	tb.Helper()
	candidates := defaultURLs
	if s.URL != "" {
		candidates = []string{s.URL}
	}
	s.mu.Lock()
	if !s.tried {
		s.tried = true
		for _, u := range candidates {
			conn, err := pgx.Connect(ctx, u)
			if err == nil {
				s.url = u
				s.mu.Unlock()
				return conn
			}
			if s.unreachable == "" {
				s.unreachable = err.Error() // the first is the one to show
			}
		}
	}
	url, why := s.url, s.unreachable
	s.mu.Unlock()
	if url != "" {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Fatalf("pgtest: PostgreSQL answered before, not now: %v", err)
		}
		return conn
	}
	where := "the server"
	if cfg, err := pgx.ParseConfig(candidates[0]); err == nil {
		where = fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
	}
	msg := fmt.Sprintf("PostgreSQL not reachable at %s (%s); start it with: %s, or set %s",
		where, why, StartHint, EnvURL)
	if s.Required {
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
// data in PostgreSQL too.
type Schemas struct {
	Server *Server

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
	u := s.Server.Schema(tb)
	if s.urls == nil {
		s.urls = map[string]string{}
	}
	s.urls[dir] = u
	return u
}
