// Package app assembles a Twinex server from its parts (store, core, key
// service, HTTP API) and runs it: the testable heart of `twinex serve`.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/accounts"
	"github.com/twinex/twinex/activity"
	"github.com/twinex/twinex/api"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/exchange"
	"github.com/twinex/twinex/fault"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/metrics"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/ratelimit"
	"github.com/twinex/twinex/sim"
	"github.com/twinex/twinex/sqlite"
	"github.com/twinex/twinex/watch"
	"github.com/twinex/twinex/web"
)

// App is a running Twinex server: the store, the core, the key service and
// the HTTP server. Tests and benchmarks run it on 127.0.0.1:0 in a temporary
// data directory.
type App struct {
	Listen  string
	DataDir string
	// Store is where the state is kept: "" for SQLite in DataDir (the
	// default), or a postgres:// URL (serve --store, TWINEX_STORE), where
	// several servers share one database, one leading and the others
	// standing by (Lease). DataDir then keeps only the admin token, the
	// master key and the settings files.
	Store string
	// Lease times the leadership among servers sharing a PostgreSQL
	// store (serve --lease-ttl, --lease-every); zero fields: defaults.
	Lease  Lease
	Logger *slog.Logger // default: discard
	Stdout io.Writer    // where the start-up banner goes; default: discard
	// Now is the wall clock of every decision the server takes (command
	// stamps, key expiry, activity records, pruning); default time.Now.
	// Tests pin it. Elapsed times (recovery, lease renewal) are measured
	// on the real monotonic clock whatever Now says.
	Now func() time.Time
	// PublicLimit and PrivateLimit are the rate limits (zero: unlimited).
	PublicLimit, PrivateLimit ratelimit.Limit
	// WSPerIP and WSPerKey limit open WebSocket connections per client
	// address and per API key (zero: api.DefaultWSPerIP, DefaultWSPerKey).
	WSPerIP, WSPerKey int
	// ApprovalWait is the hold on newly approved withdrawal addresses; a
	// negative value means the mode's default (0 in sandbox,
	// ProductionApprovalWait in production).
	ApprovalWait time.Duration
	// Mode is Sandbox (the zero value) or Production.
	Mode Mode
	// ActivityRetention is how long the activity log keeps records
	// (activity.DefaultRetention when zero).
	ActivityRetention time.Duration
	// KYCReview is how identity submissions are decided: "auto" (approved
	// at once; the sandbox's default) or "manual" (the operator reviews;
	// production's only choice).
	KYCReview string
	// Sim runs the market simulator (sandbox only); SimSeed seeds it.
	// Settings from the environment, read by cmd/twinex (serve's help
	// names the variables): Token, the admin token, replaces <data>/admin.token;
	// MasterKeyFile names the key sealing secrets (default
	// <data>/master.key); TrustedProxies lists the proxies (addresses or
	// CIDR ranges, comma-separated) whose X-Forwarded-For is believed;
	// PublicURL is the dashboard's public address for emailed links; SMTPURL
	// and MailFrom send mail through SMTP.
	Token          string
	MasterKeyFile  string
	TrustedProxies string
	PublicURL      string
	SMTPURL        string
	MailFrom       string
	// MetricsListen, when set, serves GET /metrics (Prometheus) on a
	// listener of its own (serve --metrics-listen; off by default).
	MetricsListen string
	Sim           bool
	SimSeed       uint64
	// Backfill is how much market history the simulator writes into a
	// store that has no trade yet (first start, reset); 0: none.
	Backfill time.Duration
	// Scenario, when set, is a scenario file (or a shipped example's
	// name) played from the start (sandbox only).
	Scenario string

	// shared is the lease and role of a server on PostgreSQL (role.go);
	// its ctl is nil on SQLite.
	shared

	// Settings read once at Open.
	markets *twinex.Markets
	token   string
	sealer  *auth.Sealer
	trusted []netip.Prefix

	faults *fault.Injector // sandbox only; kept across restores

	reqOnce   sync.Once // request ids: a random prefix, then a counter
	reqPrefix uint32
	reqSeq    atomic.Uint64

	metrics    *metrics.Metrics // nil unless MetricsListen is set
	metricsSrv *http.Server
	metricsLn  net.Listener

	simMu     sync.Mutex       // guards simPaused and applying it to the runner
	simPaused bool             // kept across restores
	simCfg    sim.Config       // read once at Open, so a swap cannot fail on a file edited since
	faucet    *exchange.Faucet // the sandbox's test funds; nil in production
	scen      scenarios        // the scenario playing, if any

	// mu guards st: requests hold it for reading; a restore or reset,
	// which replaces the whole state, holds it for writing.
	mu sync.RWMutex
	st *state
	// controls is the last state's handler, kept so that restore and reset
	// stay reachable if a failed swap left no state.
	controls http.Handler

	http *http.Server
	ln   net.Listener
	done chan error
}

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

// Run opens the server and serves until ctx ends, then closes it.
func (m *App) Run(ctx context.Context) error {
	if err := m.Open(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-m.done:
		m.Close()
		return fmt.Errorf("http server: %w", err)
	}
	return m.Close()
}

// Open recovers the exchange from the data directory and starts serving.
func (m *App) Open(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Mode == "" {
		m.Mode = Sandbox
	}
	if err := checkStore(m.Store); err != nil {
		return err
	}
	switch m.KYCReview {
	case "":
		m.KYCReview = "auto"
		if m.Mode == Production {
			m.KYCReview = "manual"
		}
	case "manual":
	case "auto":
		if m.Mode == Production {
			return errors.New("--kyc-review=auto is for the sandbox: in production the operator reviews each identity")
		}
	default:
		return fmt.Errorf("--kyc-review %q: want auto or manual", m.KYCReview)
	}
	if m.ApprovalWait < 0 {
		m.ApprovalWait = 0
		if m.Mode == Production {
			m.ApprovalWait = ProductionApprovalWait
		}
	}
	if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := checkDataDir(m.DataDir); err != nil {
		if m.Mode == Production {
			return err
		}
		m.Logger.Warn("data directory is not private", "err", err)
	}
	var err error
	if m.markets, err = loadMarkets(m.DataDir); err != nil {
		return err
	}
	if m.token, err = adminToken(m.DataDir, m.Token); err != nil {
		return err
	}
	masterKey, err := auth.LoadMasterKey(m.DataDir, m.MasterKeyFile)
	if err != nil {
		return err
	}
	if m.sealer, err = auth.NewSealer(masterKey); err != nil {
		return err
	}
	if m.trusted, err = auth.ParseTrustedProxies(m.TrustedProxies); err != nil {
		return fmt.Errorf("TWINEX_TRUSTED_PROXIES: %w", err)
	}
	if m.Mode == Production {
		if err := checkProduction(m.Listen, m.trusted); err != nil {
			return err
		}
	}
	if m.Mode == Sandbox {
		if m.faults, err = loadFaults(m.DataDir); err != nil {
			return err
		}
		m.faults.Now = m.now
		m.simCfg = sim.DefaultConfig(m.markets)
		m.simCfg.Seed = m.SimSeed
		if err := applySimFile(m.DataDir, &m.simCfg); err != nil {
			return err
		}
		if m.faucet, err = loadFaucet(m.DataDir, m.markets); err != nil {
			return err
		}
	}
	if m.MetricsListen != "" {
		m.metrics = metrics.New()
	}
	var scenarioFile []byte
	if m.Scenario != "" {
		if m.Mode != Sandbox {
			return errors.New("--scenario needs sandbox mode")
		}
		if scenarioFile, err = LoadScenario(m.Scenario); err != nil {
			return err
		}
	}
	start := time.Now()
	if IsPostgres(m.Store) {
		if scenarioFile != nil {
			return errors.New("--scenario needs the SQLite store: on PostgreSQL the leader may change while it plays")
		}
		return m.openShared(ctx, start)
	}
	if m.st, err = m.openState(ctx, 0); err != nil {
		return err
	}
	if err := m.listen(); err != nil {
		m.st.close()
		return err
	}
	m.st.start(m.linkBase())
	if scenarioFile != nil {
		if _, err := m.RunScenario(ctx, scenarioFile); err != nil {
			m.st.close()
			m.ln.Close()
			return fmt.Errorf("scenario %s: %w", m.Scenario, err)
		}
	}
	m.serve()
	m.Logger.Info("twinex serving", "addr", m.ln.Addr().String(), "data", m.DataDir, "store", m.storeName(), "role", "leader", "mode", m.Mode, "recovered_in", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(m.Stdout, "Twinex is serving on http://%s (data in %s, %s mode)\n", m.ln.Addr(), m.DataDir, m.Mode)
	if m.Mode == Sandbox {
		m.demoBanner(m.Stdout, "http://"+m.ln.Addr().String())
	}
	return nil
}

// listen makes the HTTP server, listens on m.Listen and starts the
// metrics listener if one is set.
func (m *App) listen() error {
	m.http = &http.Server{
		Handler:           m.withRequestID(http.HandlerFunc(m.serveHTTP)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	var err error
	if m.ln, err = net.Listen("tcp", m.Listen); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if m.metrics != nil {
		if err := m.startMetrics(); err != nil {
			m.ln.Close()
			return err
		}
	}
	return nil
}

// serve serves HTTP on the listener until Close.
func (m *App) serve() {
	m.done = make(chan error, 1)
	go func() {
		if err := m.http.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.done <- err
		}
	}()
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
				return nil, err
			}
		}
	}
	send, box, sender, err := m.mail(st)
	if err != nil {
		return nil, err
	}
	st.watch.Mail = sender
	public, err := publicURL(m.PublicURL)
	if err != nil {
		return nil, err
	}
	currency, err := api.CurrencyDataScript(m.markets)
	if err != nil {
		return nil, err
	}
	st.web = &web.Server{CurrencyData: currency, Users: st.users, Store: st.store, Accounts: st.store, Exchange: st.exch, Keys: st.keys, Identities: st.store, ActivityLog: st.store, Watch: st.store, Quota: st.quota, KeyLimiter: srv.PrivateLimit, Sealer: m.sealer, AutoApproveIdentity: m.KYCReview == "auto", AdminToken: m.token, Markets: m.markets, Logger: m.Logger, BaseURL: public, Now: m.now,
		Sandbox: m.Mode == Sandbox, TrustedProxies: m.trusted, Mail: send, Mailbox: box,
		// Behind a TLS-terminating proxy (production requires one beyond
		// loopback) the browser speaks HTTPS: cookies must be Secure.
		Secure: m.Mode == Production && len(m.trusted) > 0}
	st.srv, st.handler = srv, route(srv.Handler(), st.web.Handler())
	m.controls = st.handler
	return st, nil
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

// route sends the Gemini API, the admin API, the health check and the API's
// OpenAPI description to the API server, and every other path to the
// dashboard.
func route(api, dashboard http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		// An upgrade request at the root is the API's to refuse (in JSON),
		// not the dashboard's page.
		rootUpgrade := p == "/" && r.Header.Get("Upgrade") != ""
		if strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/admin/") || strings.HasPrefix(p, "/secrets/") ||
			p == "/healthz" || p == "/readyz" || p == "/openapi.json" || rootUpgrade {
			api.ServeHTTP(w, r)
			return
		}
		dashboard.ServeHTTP(w, r)
	})
}

// mail returns how the dashboard sends mail: through SMTP when
// TWINEX_SMTP_URL is set (from TWINEX_MAIL_FROM), else in the sandbox into
// the built-in mailbox shown at /mailbox. Production without SMTP drops
// mail with an error in the log.
func (m *App) mail(st *state) (func(ctx context.Context, to, subject, text string) error, web.Mailbox, mail.Sender, error) {
	var sender mail.Sender
	var box web.Mailbox
	if u := m.SMTPURL; u != "" {
		from := cmp.Or(m.MailFrom, "Twinex <no-reply@localhost>")
		s, err := mail.NewSMTP(u, from)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("TWINEX_SMTP_URL: %w", err)
		}
		s.Now = m.now
		sender = s
	} else if m.Mode == Sandbox {
		mb := mail.NewMailbox(st.store, m.now)
		sender, box = mb, mb
	} else {
		m.Logger.Warn("production mode without TWINEX_SMTP_URL: mail is not sent")
		return nil, nil, nil, nil
	}
	return func(ctx context.Context, to, subject, text string) error {
		return sender.Send(ctx, mail.Message{To: to, Subject: subject, Text: text})
	}, box, sender, nil
}

// publicURL checks TWINEX_PUBLIC_URL, the address users reach the dashboard
// at, used in emailed links ("" when unset: links then work only for
// loopback hosts).
func publicURL(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("TWINEX_PUBLIC_URL %q: want an http or https address such as https://twinex.example.com", v)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// serveHTTP hands a request to the current state, holding it for reading
// so that a restore waits for requests in flight. Restore and reset
// requests themselves run without the lock, since they take it for writing.
func (m *App) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" && r.Method == http.MethodGet {
		m.healthz(w)
		return
	}
	if m.ctl != nil && !m.serving() {
		m.serveStandby(w, r)
		return
	}
	swapping := r.Method == http.MethodPost && (r.URL.Path == "/admin/v1/sandbox/restore" || r.URL.Path == "/admin/v1/sandbox/reset")
	m.mu.RLock()
	if m.st == nil && swapping && m.controls != nil {
		h := m.controls
		m.mu.RUnlock()
		h.ServeHTTP(w, r)
		return
	}
	if m.st == nil {
		m.mu.RUnlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"result":"error","reason":"Maintenance","message":"The Gemini Exchange is currently undergoing maintenance. Please try again shortly."}`+"\n")
		return
	}
	h := m.st.handler
	if swapping {
		m.mu.RUnlock()
		h.ServeHTTP(w, r)
		return
	}
	defer m.mu.RUnlock()
	h.ServeHTTP(w, r)
}

// linkBase is the dashboard's address for links in mail sent outside a
// request: TWINEX_PUBLIC_URL, else the listening address when it is
// loopback (a sandbox on this machine), else "" (no link).
func (m *App) linkBase() string {
	if m.st != nil && m.st.web != nil && m.st.web.BaseURL != "" {
		return m.st.web.BaseURL
	}
	if m.ln == nil {
		return ""
	}
	ap, err := netip.ParseAddrPort(m.ln.Addr().String())
	if err != nil || !ap.Addr().IsLoopback() {
		return ""
	}
	return "http://" + m.ln.Addr().String()
}

// Feed returns the current state's WebSocket hub (nil when closed), for
// benchmarks that trace its messages.
func (m *App) Feed() *feed.Hub {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.st == nil {
		return nil
	}
	return m.st.feed
}

// now reads the App's clock: Now, or time.Now when unset.
func (m *App) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Addr returns the address the server listens on.
func (m *App) Addr() string { return m.ln.Addr().String() }

// AdminToken returns the admin API's bearer token (after Open).
func (m *App) AdminToken() string { return m.token }

// Close shuts down in reverse order: stop accepting and finish requests,
// stop the background work, drain the sequencer, close the store.
func (m *App) Close() error {
	var errs []error
	m.StopScenario()
	m.scen.wg.Wait()
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := m.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		cancel()
	}
	if m.metricsSrv != nil {
		m.metricsSrv.Close()
	}
	m.closeShared() // no takeover or step-down from here on
	m.mu.Lock()
	if m.st != nil {
		if err := m.st.close(); err != nil {
			errs = append(errs, err)
		}
		m.st = nil
	}
	m.mu.Unlock()
	m.resignShared()
	return errors.Join(errs...)
}
