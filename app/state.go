package app

// A state: what one data directory's store gives life to, from opening it to
// its background work and closing it.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/accounts"
	"github.com/twinex/twinex/activity"
	"github.com/twinex/twinex/api"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/exchange"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/ratelimit"
	"github.com/twinex/twinex/sqlite"
	"github.com/twinex/twinex/watch"
	"github.com/twinex/twinex/web"
)

// state is what one data directory's store gives life to: the core, the
// key service, the API server and its background work. Restore and Reset
// replace it whole.
type state struct {
	store   Store
	journal twinex.Journal
	sqlite  *sqlite.DB           // the store when it is SQLite (snapshots, backups); else nil
	history twinex.ExchangeStore // the store's history, read-your-writes (core.History)
	users   *accounts.Service
	core    *core.Core
	exch    *exchange.Service
	feed    *feed.Hub
	keys    *keys.Service
	srv     *api.Server
	web     *web.Server
	sim     *simulator // nil unless the simulator runs
	log     *activity.Recorder
	quota   *quota.Service
	watch   *watch.Watcher
	handler http.Handler
	stop    func() // stops the background work; nil until start
	bg      sync.WaitGroup
}

// openState opens the store and everything that lives on it. Its
// background work starts with start. token is the fencing token of a
// leader on PostgreSQL (0 on SQLite): every exchange write checks it.
func (m *App) openState(ctx context.Context, token int64) (_ *state, err error) {
	st := &state{}
	// Whatever was opened is closed again if a later step fails.
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	o, err := m.openStore(ctx, token)
	if err != nil {
		return nil, err
	}
	st.store, st.journal, st.sqlite = o.store, o.journal, o.sqlite
	// The feed hub takes each durable batch from the core and fans it out
	// to the WebSocket feeds on its own goroutine.
	st.feed = feed.New(m.markets, m.Logger)
	ccfg := core.Config{Store: st.store, Journal: st.journal, Markets: m.markets, Logger: m.Logger, OnCommit: st.feed.Publish, Now: m.now}
	if mt := m.metrics; mt != nil {
		ccfg.OnBatch = func(b core.BatchStats) { mt.Batch(b.Commands, b.Apply, b.Commit, b.Failed) }
	}
	if st.core, err = core.Open(ctx, ccfg); err != nil {
		return nil, err
	}
	st.history = st.core.History()
	st.feed.Start(st.core)
	st.users = &accounts.Service{Store: st.store, Now: m.now}
	st.exch = &exchange.Service{Core: st.core, Store: st.history, Accounts: st.store, Faucet: m.faucet}
	st.keys = &keys.Service{Store: st.store, Sealer: m.sealer, Logger: m.Logger, Fingerprints: st.store, Now: m.now}
	if err := st.keys.IndexFingerprints(ctx); err != nil {
		return nil, err
	}
	// Sessions with open orders start their heartbeat clocks now, so that
	// a client that went silent across a restart still loses them.
	var sessions []string
	if err := st.core.Inspect(ctx, func(x *engine.Exchange) { sessions = x.OpenSessions() }); err != nil {
		return nil, err
	}
	for _, id := range sessions {
		if auth.ValidKeyID(id) {
			if err := st.keys.StartClock(ctx, id, m.now()); err != nil {
				return nil, fmt.Errorf("start heartbeat clocks: %w", err)
			}
		}
	}
	if m.Mode == Sandbox {
		if err := m.provisionDemo(ctx, st); err != nil {
			return nil, err
		}
	} else if _, err := st.store.UserByEmail(ctx, DemoEmail); err == nil {
		return nil, fmt.Errorf("this data directory holds a sandbox (its demo account, simulated liquidity and deposits); production mode needs a data directory of its own")
	}
	st.log = activity.New(st.store, m.ActivityRetention, m.Logger)
	st.log.Now = m.now
	st.watch = &watch.Watcher{Store: st.store, Accounts: st.store, Keys: st.keys, Logger: m.Logger, Now: m.now}
	if mt := m.metrics; mt != nil {
		st.log.OnBatch = mt.ActivityBatch
		st.watch.OnRaise = mt.AlertRaised
	}
	st.log.OnWrite(st.watch.Observe)
	st.keys.OnRevoke = st.watch.KeyRevoked
	st.quota = &quota.Service{Store: st.store, Logger: m.Logger, Warn: st.watch.QuotaWarning}
	if err := st.quota.Load(ctx, m.now()); err != nil {
		return nil, err
	}
	if err := m.openHTTP(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

// openHTTP makes the state's API server and dashboard (with the simulator,
// in a sandbox that runs it) and the handler routing between them.
func (m *App) openHTTP(ctx context.Context, st *state) (err error) {
	srv := &api.Server{Users: st.users, Activity: st.log, Quota: st.quota, Leaks: st.watch, ActivityLog: st.store, Core: st.core, Exchange: st.exch, Store: st.history, Accounts: st.store, Addresses: st.store, Identities: st.store, Keys: st.keys,
		TrustedProxies: m.trusted, AdminToken: m.token, Logger: m.Logger, ApprovalWait: m.ApprovalWait,
		PublicLimit: ratelimit.New(m.PublicLimit), PrivateLimit: ratelimit.New(m.PrivateLimit), Feed: st.feed,
		WSPerIP: m.WSPerIP, WSPerKey: m.WSPerKey, Now: m.now}
	if st.sqlite != nil {
		// Backups copy SQLite's files; PostgreSQL is backed up with its
		// own tools (pg_dump, base backups), and the endpoint says it is
		// not available.
		srv.Backups, srv.BackupDir = caughtBackups{st.sqlite, st.core}, m.DataDir
	}
	if m.Mode == Sandbox {
		srv.Sandbox, srv.Faults, srv.Scenarios = m, m.faults, m
		if m.Sim {
			if st.sim, err = m.openSimulator(ctx, st); err != nil {
				return err
			}
		}
	}
	send, box, sender, err := m.mail(st)
	if err != nil {
		return err
	}
	st.watch.Mail = sender
	public, err := publicURL(m.PublicURL)
	if err != nil {
		return err
	}
	currency, err := api.CurrencyDataScript(m.markets)
	if err != nil {
		return err
	}
	st.web = &web.Server{CurrencyData: currency, Users: st.users, Store: st.store, Accounts: st.store, Exchange: st.exch, Keys: st.keys, Identities: st.store, ActivityLog: st.store, Watch: st.store, Quota: st.quota, KeyLimiter: srv.PrivateLimit, Sealer: m.sealer, AutoApproveIdentity: m.KYCReview == "auto", AdminToken: m.token, Markets: m.markets, Logger: m.Logger, BaseURL: public, Now: m.now,
		Sandbox: m.Mode == Sandbox, TrustedProxies: m.trusted, Mail: send, Mailbox: box,
		// Behind a TLS-terminating proxy (production requires one beyond
		// loopback) the browser speaks HTTPS: cookies must be Secure.
		Secure: m.Mode == Production && len(m.trusted) > 0}
	st.srv, st.handler = srv, route(srv.Handler(), st.web.Handler())
	return nil
}

// start starts the state's background work: flushing key uses, writing
// the activity log, alerts and their mail, and cancelling the orders of
// silent heartbeat sessions. base is the dashboard's address for links in
// alert mail.
func (st *state) start(base string) {
	ctx, stop := context.WithCancel(context.Background())
	st.stop = stop
	st.watch.BaseURL = base
	st.bg.Add(6)
	go func() { defer st.bg.Done(); st.watch.Run(ctx) }()
	go func() { defer st.bg.Done(); st.web.Run(ctx) }() // queued password-reset mail
	go func() { defer st.bg.Done(); st.keys.Run(ctx, 200*time.Millisecond) }()
	go func() { defer st.bg.Done(); st.log.Run(ctx) }()
	go func() { defer st.bg.Done(); st.srv.RunHeartbeats(ctx) }()
	go func() {
		defer st.bg.Done()
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				st.web.Prune(ctx) // expired sessions, links and old login attempts
			}
		}
	}()
	if st.sim != nil {
		st.sim.start()
	}
}

// close stops the background work (flushing key uses), drains the
// sequencer and closes the store.
func (st *state) close() error {
	var errs []error
	// WebSockets first: http.Server.Shutdown does not cover hijacked
	// connections. Clients see 1001 and reconnect.
	if st.feed != nil {
		st.feed.Close("server shutting down or restarting")
	}
	if st.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st.srv.DrainWebSockets(ctx)
		cancel()
	}
	if st.sim != nil {
		st.sim.close()
	}
	if st.stop != nil {
		st.stop()
		st.bg.Wait()
		// Alerts raised by the log's last batches are stored; mail them
		// before going.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st.watch.Drain(ctx)
		cancel()
	}
	// A state that failed to open closes what it got to.
	if st.core != nil {
		if err := st.core.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if st.journal != nil {
		if err := st.journal.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if st.store != nil {
		if err := st.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// journalDir is the command journal's directory in a data directory.
func journalDir(dataDir string) string { return filepath.Join(dataDir, "journal") }

// caughtBackups copies the store once its projection holds every
// acknowledged command, so that a backup taken right after an answer
// includes it.
type caughtBackups struct {
	*sqlite.DB
	core *core.Core
}

func (b caughtBackups) BackupTo(ctx context.Context, path string) error {
	if err := b.core.Caught(ctx); err != nil {
		return err
	}
	return b.DB.BackupTo(ctx, path)
}
