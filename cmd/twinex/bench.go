package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/app"
	"github.com/twinex/twinex/bench"
	"github.com/twinex/twinex/journal"
	"github.com/twinex/twinex/postgres"
	"github.com/twinex/twinex/sqlite"
)

const benchUsage = `Usage: twinex bench <benchmark> [flags]

Benchmarks:
  engine   drive the matching engine in-process with a seeded mix of resting
           orders, cancels, and crossing immediate-or-cancel and fill-or-kill
           orders over a book of about 1,000 orders on about 750 levels;
           --durable sends the same stream through the sequencer, the
           command journal (--journal file|table|none) and the SQLite store
           behind it, in a temporary directory; with --store postgres://...
           the journal and the store are PostgreSQL's, in a new schema

  api      start a server on a temporary data directory (or target --url) and,
           over loopback, drive signed /v1/order/new and /v1/order/cancel from
           --conns connections, then GET /v1/pubticker/btcusd, then a bare
           net/http handler as the baseline
  soak     start a sandbox server (simulator on) and drive signed orders and
           cancels for --duration, printing a JSON line of memory figures
           (rss_mb, heap_inuse_mb, goroutines) every --every
  ws       start a sandbox server (simulator on) on a temporary data
           directory (or target --url, or start one in a process of its
           own with --server-cpus), connect --subscribers v2 clients
           subscribed to l2 on BTCUSD over loopback, and drive
           --orders-per-sec crossing orders through signed REST for
           --duration; latency is from the commit (in process) or the
           trade's sequencer stamp (--url) to the subscriber's read of the
           trade frame
  restart  build a store of --open open orders and --history closed ones in a
           temporary directory, and --journaled commands in the journal after
           it, then time reopening it and recovering until the exchange could
           serve
  journal  append --records records of --record-bytes to a journal
           (--journal file|table), one sync each, then replay them
  sockets  the machine's floor for fanning out: --conns loopback TCP
           connections, a writer and a reader goroutine each, every writer
           writing --bytes once per round, back to back for --duration,
           with nothing else running

Each prints one JSON line of figures; engine's are
{"ops":N,"ops_per_sec":X,"p50_ns":...,"p99_ns":...,"p999_ns":...}.
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, benchUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "engine":
		return benchEngine(ctx, args[1:], stdout, stderr)
	case "restart":
		return benchRestart(ctx, args[1:], stdout, stderr)
	case "api":
		return benchAPI(ctx, args[1:], stdout, stderr)
	case "soak":
		return benchSoak(ctx, args[1:], stdout, stderr)
	case "ws":
		return benchWS(ctx, args[1:], stdout, stderr)
	case "journal":
		return benchJournal(ctx, args[1:], stdout, stderr)
	case "sockets":
		return benchSockets(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "bench: unknown benchmark %q\n\n%s", args[0], benchUsage)
	return errUsage
}

func benchEngine(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench engine", "Usage: twinex bench engine [--orders N] [--seed S] [--durable [--store postgres://...]]\n\n"+
		"Prints {\"ops\":N,\"ops_per_sec\":X,\"p50_ns\":...,\"p99_ns\":...,\"p999_ns\":...} and the workload's shape.\n", stderr)
	var cfg bench.EngineConfig
	fs.IntVar(&cfg.Orders, "orders", 1_000_000, "number of timed commands")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "workload seed")
	fs.BoolVar(&cfg.Durable, "durable", false, "go through the sequencer and group commit into SQLite (or --store)")
	fs.IntVar(&cfg.Clients, "clients", 2048, "concurrent submitters with --durable")
	fs.StringVar(&cfg.Journal, "journal", "file", "with --durable, where batches become durable: file (the journal's files, as served), table (a SQLite table of batch blobs) or none (each batch committed to the store); with --store postgres://..., the PostgreSQL journal unless none")
	store := fs.String("store", "", "with --durable, a postgres://... URL: the store and the journal are PostgreSQL's, in a schema of\ntheir own created in that database and dropped after (default: SQLite in a temporary directory)")
	timedProfile := fs.String("timed-cpuprofile", "", "with --durable, write a CPU profile of the timed phase alone to this file")
	cfg.OpenStore = func(path string) (twinex.ExchangeStore, error) { return sqlite.Open(path) }
	return profiled(fs, args, stdout, func() (bench.EngineResult, error) {
		if *timedProfile != "" {
			if !cfg.Durable {
				return bench.EngineResult{}, errors.New("bench engine: --timed-cpuprofile needs --durable (use --cpuprofile for the engine alone)")
			}
			if fs.Lookup("cpuprofile").Value.String() != "" {
				return bench.EngineResult{}, errors.New("bench engine: --cpuprofile and --timed-cpuprofile cannot both be on (one CPU profile at a time)")
			}
			f, err := os.Create(*timedProfile)
			if err != nil {
				return bench.EngineResult{}, err
			}
			defer f.Close()
			cfg.Profile = f
		}
		if *store != "" {
			return benchEnginePostgres(ctx, cfg, *store)
		}
		open, err := journalOpener(cfg.Journal)
		if err != nil {
			return bench.EngineResult{}, err
		}
		cfg.OpenJournal = open
		return bench.Engine(ctx, cfg)
	})
}

// benchEnginePostgres runs bench engine --durable on PostgreSQL at url, in
// a new schema dropped afterwards.
func benchEnginePostgres(ctx context.Context, cfg bench.EngineConfig, url string) (bench.EngineResult, error) {
	if !app.IsPostgres(url) || !cfg.Durable {
		return bench.EngineResult{}, fmt.Errorf("bench: --store takes a postgres:// URL, with --durable")
	}
	schema, drop, err := postgres.NewSchema(ctx, url, "twinex_bench_")
	if err != nil {
		return bench.EngineResult{}, err
	}
	defer drop(context.WithoutCancel(ctx))
	// As served: the store and journal fenced with the token of a lease
	// (held for longer than any run).
	var token int64
	cfg.OpenStore = func(string) (twinex.ExchangeStore, error) {
		db, err := postgres.Open(ctx, schema)
		if err != nil {
			return nil, err
		}
		if token, _, err = db.Acquire(ctx, "twinex-bench", "", 24*time.Hour); err != nil || token == 0 {
			db.Close()
			return nil, fmt.Errorf("bench: take the lease: token %d, %v", token, err)
		}
		db.SetFence(token)
		return db, nil
	}
	switch cfg.Journal {
	case "none":
		cfg.OpenJournal = nil
	default:
		cfg.Journal = "postgres"
		cfg.OpenJournal = func(string) (twinex.Journal, error) {
			j, err := postgres.OpenJournal(ctx, schema)
			if err == nil {
				j.SetFence(token)
			}
			return j, err
		}
	}
	return bench.Engine(ctx, cfg)
}

func benchSockets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench sockets", "Usage: twinex bench sockets [--conns N] [--bytes N] [--duration D]\n\n"+
		"Prints {\"conns\":N,\"writes_per_sec\":X,\"round_p50_ms\":...,\"round_p99_ms\":...,\"cpu_us_per_write\":...}: how long one\n"+
		"write to every connection takes and what a write and its read cost, the bound under \"bench ws\".\n", stderr)
	var cfg bench.SocketsConfig
	fs.IntVar(&cfg.Conns, "conns", 1000, "loopback TCP connections")
	fs.IntVar(&cfg.Bytes, "bytes", 3000, "bytes per write (bench ws at 1,000 orders/s writes about 3,000: 15-25 frames)")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "measured time")
	return profiled(fs, args, stdout, func() (bench.SocketsResult, error) { return bench.Sockets(ctx, cfg) })
}

func benchJournal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench journal", "Usage: twinex bench journal [--journal file|table] [--records N] [--record-bytes N]\n\n"+
		"Prints {\"appends_per_sec\":X,\"append_p50_us\":...,\"append_p99_us\":...,\"replay_ms\":...}: one record and one sync per append.\n", stderr)
	var cfg bench.JournalConfig
	fs.StringVar(&cfg.Journal, "journal", "file", "the journal's home: file or table")
	fs.IntVar(&cfg.Records, "records", 2000, "appends")
	fs.IntVar(&cfg.RecordBytes, "record-bytes", 100_000, "bytes per record (a batch of about 1,000 commands)")
	return profiled(fs, args, stdout, func() (bench.JournalResult, error) {
		open, err := journalOpener(cfg.Journal)
		if err != nil || open == nil {
			return bench.JournalResult{}, fmt.Errorf("bench: --journal is file or table")
		}
		cfg.OpenJournal = open
		return bench.Journal(ctx, cfg)
	})
}

// journalOpener returns the opener of the journal named by --journal.
func journalOpener(kind string) (func(dir string) (twinex.Journal, error), error) {
	switch kind {
	case "file":
		return func(dir string) (twinex.Journal, error) { return journal.Open(filepath.Join(dir, "journal")) }, nil
	case "table":
		return func(dir string) (twinex.Journal, error) { return sqlite.OpenJournal(filepath.Join(dir, "journal.db")) }, nil
	case "none":
		return nil, nil
	}
	return nil, fmt.Errorf("bench: --journal is file, table or none, not %q", kind)
}

func benchRestart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench restart", "Usage: twinex bench restart [--open N] [--history N] [--journaled N] [--seed S]\n\n"+
		"Prints {\"open_orders\":N,\"historical_orders\":N,\"restart_ms\":X,...}.\n", stderr)
	var cfg bench.RestartConfig
	fs.IntVar(&cfg.Open, "open", 100_000, "open orders at the restart")
	fs.IntVar(&cfg.History, "history", 1_000_000, "closed orders in the history")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "workload seed")
	fs.IntVar(&cfg.Journaled, "journaled", 0, "commands in the journal after the last checkpoint, replayed at the restart")
	kind := fs.String("journal", "file", "the journal: file, table or none (as in bench engine)")
	restartProfile := fs.String("restart-cpuprofile", "", "write a CPU profile of the timed restart alone to this file")
	cfg.OpenStore = func(path string) (twinex.ExchangeStore, error) { return sqlite.Open(path) }
	return profiled(fs, args, stdout, func() (bench.RestartResult, error) {
		var err error
		if cfg.OpenJournal, err = journalOpener(*kind); err != nil {
			return bench.RestartResult{}, err
		}
		if *restartProfile != "" {
			if fs.Lookup("cpuprofile").Value.String() != "" {
				return bench.RestartResult{}, errors.New("bench restart: --cpuprofile and --restart-cpuprofile cannot both be on (one CPU profile at a time)")
			}
			f, err := os.Create(*restartProfile)
			if err != nil {
				return bench.RestartResult{}, err
			}
			defer f.Close()
			cfg.Profile = f
		}
		return bench.Restart(ctx, cfg)
	})
}

func benchAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench api", `Usage: twinex bench api [--duration D] [--conns N] [--url URL --token T [--pid PID] [--pprof URL]]
       twinex bench api --server-cpus 0 --loader-cpus 1 [--profile PREFIX] [--duration D] [--conns N]

Prints {"orders_per_sec":...,"order_p50_ms":...,"order_p99_ms":...,"ticker_per_sec":...,"baseline_per_sec":...,"errors":...}.

--server-cpus starts "twinex serve" (production mode, rate limits off, a temporary data
directory) in a process of its own pinned to those cores with taskset, and reports
server_cpu_us_per_request; --loader-cpus pins the loader (this process) to others, so
that neither takes the other's cores. --profile writes the server's CPU, mutex and block
profiles over the order phase to PREFIXcpu.pprof, PREFIXmutex.pprof and PREFIXblock.pprof
(a started server serves them itself; with --url, name its --pprof-listen with --pprof).
`, stderr)
	var cfg bench.APIConfig
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "length of each phase")
	fs.IntVar(&cfg.Conns, "conns", 32, "concurrent connections")
	var t benchTarget
	t.flags(fs, "server_cpu_us_per_request, its CPU time per signed request", "the order phase", "0", "pin the loader to these cores (a taskset list, e.g. 1)")
	return profiled(fs, args, stdout, func() (bench.APIResult, error) {
		stop, err := t.open(ctx, "bench api", productionServe)
		if err != nil {
			return bench.APIResult{}, err
		}
		defer stop()
		cfg.URL, cfg.Token, cfg.PID, cfg.Pprof, cfg.ProfilePrefix = t.URL, t.Token, t.PID, t.Pprof, t.ProfilePrefix
		return bench.API(ctx, cfg)
	})
}

func benchSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench soak", "Usage: twinex bench soak [--duration D] [--every D] [--conns N]\n\n"+
		"Prints a JSON line {\"t_s\":...,\"rss_mb\":...,\"heap_inuse_mb\":...,\"goroutines\":...,\"orders\":...} every --every, and one at the end.\n", stderr)
	var cfg bench.SoakConfig
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Minute, "how long to run")
	fs.DurationVar(&cfg.Every, "every", 10*time.Second, "time between samples")
	fs.IntVar(&cfg.Conns, "conns", 8, "signed load connections")
	if err := parse(fs, args); err != nil {
		return err
	}
	return bench.Soak(ctx, cfg, stdout)
}

func benchWS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench ws", `Usage: twinex bench ws [--subscribers N] [--duration D] [--orders-per-sec R] [--sim=false]
       twinex bench ws --url URL --token T [--pid PID] [--pprof URL --profile PREFIX] [...]
       twinex bench ws --server-cpus 0-1 [--loader-cpus 0-1] [--profile PREFIX] [...]

Prints {"subscribers":N,"messages_per_sec":X,"latency_p50_ms":...,"latency_p99_ms":...,
"dropped_clients":N,"cpu_us_per_message":X,...,"latency_from":...,"mode":...}.

Without --url or --server-cpus, the server, the simulator, the loader and the
subscribers share this process; latency_from is "commit" (the hub's receipt of
the durable batch). With --url (a sandbox "twinex serve" started with
--ws-per-ip above --subscribers and --rate-public off --rate-private off) or
--server-cpus (which starts one so, with the simulator, in a process of its
own pinned with taskset), the subscribers and the loader run here and
latency_from is "sequencer_stamp_ms": from the trade's timestamp in the frame,
stamped before the group commit and rounded down to the millisecond, so an
upper bound of commit-to-client. With --pid (implied by --server-cpus),
server_cpu_us_per_message is the server's CPU per frame delivered.
`, stderr)
	var cfg bench.WSConfig
	fs.IntVar(&cfg.Subscribers, "subscribers", 1000, "v2 l2 subscribers on BTCUSD")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time")
	fs.IntVar(&cfg.OrdersPerSec, "orders-per-sec", 1000, "crossing orders per second through REST")
	fs.IntVar(&cfg.Loaders, "loaders", 0, "seller and buyer pairs sending the load (default orders-per-sec/8, 8 to 256)")
	fs.BoolVar(&cfg.Sim, "sim", true, "run the market simulator too (a server this benchmark starts)")
	var t benchTarget
	t.flags(fs, "server_cpu_us_per_message", "the measured time", "0-1", "pin the subscribers and the loader (this process) to these cores")
	return profiled(fs, args, stdout, func() (bench.WSResult, error) {
		serve := []string{"--mode", "sandbox", "--sim=" + strconv.FormatBool(cfg.Sim), "--backfill", "0",
			"--rate-public", "off", "--rate-private", "off", "--ws-per-ip", strconv.Itoa(cfg.Subscribers + 16)}
		stop, err := t.open(ctx, "bench ws", serve)
		if err != nil {
			return bench.WSResult{}, err
		}
		defer stop()
		cfg.URL, cfg.Token, cfg.PID, cfg.Pprof, cfg.ProfilePrefix = t.URL, t.Token, t.PID, t.Pprof, t.ProfilePrefix
		return bench.WS(ctx, cfg)
	})
}

// profiled adds --cpuprofile to fs, parses args, and runs the benchmark
// (under the CPU profile when asked), printing its figures as a JSON line.
func profiled[T any](fs *flag.FlagSet, args []string, stdout io.Writer, run func() (T, error)) error {
	path := fs.String("cpuprofile", "", "write a CPU profile (for go tool pprof) to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path != "" {
		f, err := os.Create(*path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := run()
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}
