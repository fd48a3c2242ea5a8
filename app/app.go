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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/exchange"
	"github.com/twinex/twinex/fault"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/metrics"
	"github.com/twinex/twinex/ratelimit"
	"github.com/twinex/twinex/sim"
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
	// stay reachable if a failed swap left no state. Set with st, under mu.
	controls http.Handler

	http *http.Server
	ln   net.Listener
	done chan error
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
	if err := m.setDefaults(); err != nil {
		return err
	}
	if err := m.loadSettings(); err != nil {
		return err
	}
	var err error
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
	m.controls = m.st.handler
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

// setDefaults fills in the settings left zero and refuses the
// combinations the mode does not allow.
func (m *App) setDefaults() error {
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
	return nil
}

// loadSettings reads what the data directory holds besides the store (the
// markets, the admin token, the master key, the sandbox's faults,
// simulator settings and faucet), parses the trusted proxies and makes
// the metrics if they are served.
func (m *App) loadSettings() error {
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
