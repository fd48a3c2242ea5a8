package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/twinex/twinex/api"
	"github.com/twinex/twinex/app"
	"github.com/twinex/twinex/ratelimit"
)

const serveUsage = `Usage: twinex serve [flags]

Starts the exchange: recovers its state from the data directory, then
serves HTTP: the Gemini API at the root, the admin API (/admin/v1),
/healthz, the API's OpenAPI document (/openapi.json) and the dashboard
(with the API reference at /docs/api).

Files in the data directory:
  twinex.db      the SQLite store (WAL mode, durable commits)
  twinex-log.db  the API activity log and per-minute usage (commits without fsync)
  admin.token    the admin API's bearer token, generated at first start (mode 0600)
  master.key     the key sealing API secrets, generated at first start (mode 0600)
  markets.json   optional: currencies and markets replacing the built-in ones

With --store postgres://... (or TWINEX_STORE) the state is kept in
PostgreSQL instead: any number of servers may share one database. One leads
(it holds a lease with a fencing token, renewed every --lease-every) and
serves; the others stand by, answering 503 Maintenance with the leader's
name, and one of them takes over within about --lease-ttl of the leader's
death. Each server still needs a data directory for its admin token and
master key, which must be the same on every server (TWINEX_ADMIN_TOKEN,
TWINEX_MASTER_KEY_FILE). Sandbox snapshots, restores, resets and backups
work on SQLite only.

Environment: TWINEX_LISTEN and TWINEX_DATA set the defaults of --listen and
--data; TWINEX_ADMIN_TOKEN sets the admin token instead of admin.token;
TWINEX_MASTER_KEY_FILE names the key that seals API secrets (default
<data>/master.key, generated with mode 0600); TWINEX_TRUSTED_PROXIES lists
the proxies (addresses or CIDR ranges, comma-separated) whose
X-Forwarded-For is believed.
SIGINT or SIGTERM shuts down cleanly; a second signal exits at once.
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", serveUsage, stderr)
	// The environment is read here, and only here (app takes settings as
	// fields).
	m := &Main{Stdout: stdout, Token: os.Getenv("TWINEX_ADMIN_TOKEN"), MasterKeyFile: os.Getenv("TWINEX_MASTER_KEY_FILE"),
		TrustedProxies: os.Getenv("TWINEX_TRUSTED_PROXIES"), PublicURL: os.Getenv("TWINEX_PUBLIC_URL"),
		SMTPURL: os.Getenv("TWINEX_SMTP_URL"), MailFrom: os.Getenv("TWINEX_MAIL_FROM")}
	fs.StringVar(&m.Listen, "listen", envOr("TWINEX_LISTEN", "127.0.0.1:8080"), "address to listen on (TWINEX_LISTEN)")
	fs.StringVar(&m.DataDir, "data", envOr("TWINEX_DATA", "./twinex-data"), "data directory (TWINEX_DATA)")
	// TWINEX_STORE is read after parsing, not made the flag's default:
	// the usage prints defaults, and the URL may hold a password.
	fs.StringVar(&m.Store, "store", "", "where the state is kept: empty for SQLite in the data directory (the default), or a\npostgres://USER:PASSWORD@HOST:PORT/DB URL shared by a leader and its standbys (TWINEX_STORE)")
	fs.DurationVar(&m.Lease.TTL, "lease-ttl", app.DefaultLeaseTTL, "on PostgreSQL: how long the leader's lease lasts unrenewed, by the database's clock;\na standby takes over about this long after the leader dies")
	fs.DurationVar(&m.Lease.Every, "lease-every", 0, "on PostgreSQL: how often the leader renews its lease and standbys look at it (default: a third of --lease-ttl)")
	m.PublicLimit, m.PrivateLimit = ratelimit.GeminiPublic(), ratelimit.GeminiPrivate()
	fs.Var(&m.PublicLimit, "rate-public", "public requests per client address, as RATE/PERIOD+QUEUE: an allowance of RATE a PERIOD,\nthen QUEUE more held until it refills, then 429 (Gemini's: 120/1m+5); \"off\" turns off\nthe public limit and the secret-report limit")
	fs.Var(&m.PrivateLimit, "rate-private", "signed requests per API key, as RATE/PERIOD+QUEUE (Gemini's: 600/1m+5); \"off\" turns off\nevery signed-request limit, the per-endpoint ones (addresses 1/2s, transfers 1/5s) included;\nonly the daily request quota of the owner's plan (admin plan) still applies")
	fs.DurationVar(&m.ApprovalWait, "approval-wait", -1, "hold before an approved withdrawal address is active (default: 0 in sandbox, 168h in production)")
	mode := fs.String("mode", envOr("TWINEX_MODE", "sandbox"), "sandbox (simulated markets, demo account, faults) or production (TWINEX_MODE)")
	fs.DurationVar(&m.ActivityRetention, "activity-retention", 30*24*time.Hour, "how long the activity log keeps each API request's record")
	fs.StringVar(&m.KYCReview, "kyc-review", "", "identity verification: auto (approved at once; the sandbox default) or manual (the operator reviews; always in production)")
	fs.BoolVar(&m.Sim, "sim", true, "run the market simulator in sandbox mode (--sim=false for an empty market)")
	fs.Uint64Var(&m.SimSeed, "sim-seed", 1, "the simulator's seed: the same seed and the same commands give the same trades")
	fs.StringVar(&m.Scenario, "scenario", "", "a scenario file to play from the start (or a shipped example: flash-crash, halt-and-reopen, slow-bleed)")
	fs.DurationVar(&m.Backfill, "backfill", 24*time.Hour, "market history the simulator writes at first start and after a reset (market data only: no account's trades); 0 for none")
	fs.StringVar(&m.MetricsListen, "metrics-listen", os.Getenv("TWINEX_METRICS_LISTEN"), "serve Prometheus metrics at http://ADDR/metrics, on a listener of its own (off when empty, the default) (TWINEX_METRICS_LISTEN)")
	pprofListen := fs.String("pprof-listen", "", "serve Go's profiles (CPU, heap, mutex, block; net/http/pprof) at http://ADDR/debug/pprof/, on a listener of its own,\nand turn on the mutex and block profiles (off when empty, the default; for measuring, never public)")
	fs.IntVar(&m.WSPerIP, "ws-per-ip", api.DefaultWSPerIP, "WebSocket connections one client address (an IPv6 /64) may hold open; going over answers 429\nRateLimit (raise it for a load test such as twinex bench ws --url, whose subscribers share one address)")
	logFormat := fs.String("log-format", envOr("TWINEX_LOG_FORMAT", "text"), "the log's format on stderr: text (key=value) or json (one object a line, for log collectors) (TWINEX_LOG_FORMAT)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if !flagSet(fs, "store") {
		m.Store = os.Getenv("TWINEX_STORE")
	}
	var err error
	if m.Mode, err = app.ParseMode(*mode); err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return errUsage
	}
	switch *logFormat {
	case "text":
		m.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		m.Logger = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		fmt.Fprintf(stderr, "serve: --log-format %q: want text or json\n", *logFormat)
		return errUsage
	}
	if n := spareProcs(os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0)); n > 0 {
		runtime.GOMAXPROCS(n)
		m.Logger.Info("one CPU: GOMAXPROCS set to 2, so that requests are served while the journal syncs (set GOMAXPROCS to choose)")
	}
	if *pprofListen != "" {
		stop, err := startPprof(*pprofListen)
		if err != nil {
			fmt.Fprintf(stderr, "serve: %v\n", err)
			return err
		}
		defer stop()
	}
	return m.Run(ctx)
}

// spareProcs returns the GOMAXPROCS to set (0: leave it) given the
// environment's GOMAXPROCS and the current one. With a single P, the
// goroutine that syncs the journal (and SQLite) holds the P through the
// blocking system call until the runtime's monitor takes it back, which
// can be most of the sync: no request is served meanwhile, and each batch
// carries the one or two requests that arrived before it. On one core, a
// second P runs the handlers while the sync waits on the disk
// (docs/PERFORMANCE.md, "One core"). An operator's GOMAXPROCS stands.
func spareProcs(env string, procs int) int {
	if env != "" || procs >= 2 {
		return 0
	}
	return 2
}

// Main is the server `twinex serve` runs.
type Main = app.App

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
