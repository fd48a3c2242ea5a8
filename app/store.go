package app

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/journal"
	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/postgres"
	"github.com/twinex/twinex/sqlite"
)

// Store is everything a state keeps in its store: the exchange's
// projection and checkpoints, users, accounts, keys, addresses, identity,
// the dashboard's sign-in state, alerts, plans, usage, fingerprints, the
// activity log and the sandbox mailbox. sqlite.DB and postgres.DB both
// implement it.
type Store interface {
	twinex.ExchangeStore
	twinex.AccountStore
	twinex.ActivityStore
	twinex.AddressStore
	twinex.DashboardStore
	twinex.IdentityStore
	twinex.WatchStore
	mail.MailStore
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// IsPostgres reports whether a --store setting names PostgreSQL (a
// postgres:// or postgresql:// URL); "" (the default) is SQLite in the
// data directory.
func IsPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// checkStore refuses a --store setting that is neither empty (SQLite in
// the data directory) nor a PostgreSQL URL.
func checkStore(store string) error {
	if store == "" || IsPostgres(store) {
		return nil
	}
	return fmt.Errorf("--store %q: want a postgres://USER@HOST:PORT/DB URL, or nothing for SQLite in the data directory", Redact(store))
}

// Redact returns a store setting fit for logs and /healthz: a URL's
// password (in its user part, or a password or sslpassword setting) is
// replaced by "xxxxx", and any other text is returned only if
// it holds no "password" setting.
func Redact(store string) string {
	if store == "" {
		return ""
	}
	if IsPostgres(store) {
		u, err := url.Parse(store)
		if err != nil {
			return "postgres://(unparsable URL)"
		}
		// password, and sslpassword (the client key's passphrase).
		q, hidden := u.Query(), false
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
				hidden = true
			}
		}
		if hidden {
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	if strings.Contains(strings.ToLower(store), "password") {
		return "(redacted)"
	}
	return store
}

// storeName is what the startup log and /healthz say of the store in use.
func (m *App) storeName() string {
	if IsPostgres(m.Store) {
		return Redact(m.Store)
	}
	return "sqlite:" + m.DataDir
}

// opened is a state's store and journal, and the SQLite store when that is
// the one (snapshots, restores, resets and backups copy its files).
type opened struct {
	store   Store
	journal twinex.Journal
	sqlite  *sqlite.DB // nil on PostgreSQL
}

// openStore opens the store and the command journal: SQLite and the file
// journal in the data directory, or PostgreSQL and its journal table at
// m.Store, both fenced with token so that a deposed leader cannot write.
func (m *App) openStore(ctx context.Context, token int64) (o opened, err error) {
	if !IsPostgres(m.Store) {
		db, err := sqlite.Open(filepath.Join(m.DataDir, "twinex.db"))
		if err != nil {
			return o, fmt.Errorf("open store: %w", err)
		}
		o.store, o.sqlite = db, db
		if err := m.backfill(ctx, db); err != nil {
			db.Close()
			return opened{}, err
		}
		j, err := journal.Open(journalDir(m.DataDir))
		if err != nil {
			db.Close()
			return opened{}, fmt.Errorf("open journal: %w", err)
		}
		o.journal = j
		return o, nil
	}
	u := m.pgURL
	db, err := postgres.Open(ctx, u)
	if err != nil {
		return o, fmt.Errorf("open store: %w", err)
	}
	db.SetFence(token)
	if err := m.backfill(ctx, db); err != nil {
		db.Close()
		return opened{}, err
	}
	j, err := postgres.OpenJournal(ctx, u)
	if err != nil {
		db.Close()
		return opened{}, fmt.Errorf("open journal: %w", err)
	}
	j.SetFence(token)
	o.store, o.journal = db, j
	return o, nil
}

// sealedSecrets lists every sealed value of the state's store (API keys'
// secrets, TOTP seeds), for checking that the master key opens them.
func (st *state) sealedSecrets(ctx context.Context) ([]sqlite.SealedSecret, error) {
	switch s := st.store.(type) {
	case *sqlite.DB:
		return s.SealedSecrets(ctx)
	case *postgres.DB:
		list, err := s.SealedSecrets(ctx)
		out := make([]sqlite.SealedSecret, len(list))
		for i, v := range list {
			out[i] = sqlite.SealedSecret(v)
		}
		return out, err
	}
	return nil, fmt.Errorf("sealed secrets: unknown store %T", st.store)
}
