// Command twinex is a self-hosted exchange that speaks the Gemini exchange
// API. Run `twinex --help` for its commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `twinex is a self-hosted exchange that speaks the Gemini exchange API.

Usage:
  twinex <command> [flags]

Commands:
  serve   start the exchange server
  admin   provision and inspect a running server (accounts, funds, checks)
  bench   run a benchmark and print one JSON line of figures
  api     call the Gemini API as a user (market data, balances, orders)
  scan    find leaked Twinex API secrets in files and git history
  restore bring back a backup into a new data directory and check it

Run "twinex <command> --help" for a command's flags.
`

func main() {
	ctx, stop := signalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// signalContext is cancelled by the first SIGINT or SIGTERM; a second one
// exits at once.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		fmt.Fprintln(os.Stderr, "twinex: shutting down (send the signal again to exit at once)")
		cancel()
		<-ch
		fmt.Fprintln(os.Stderr, "twinex: exiting now")
		os.Exit(1)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// run dispatches a command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "admin":
		err = runAdmin(ctx, args[1:], stdout, stderr)
	case "bench":
		err = runBench(ctx, args[1:], stdout, stderr)
	case "api":
		err = runAPI(ctx, args[1:], stdout, stderr)
	case "scan":
		err = runScan(ctx, args[1:], stdout, stderr)
	case "restore":
		err = runRestore(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "twinex: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errFound):
		return 1 // the findings are printed already
	case errors.Is(err, errScan):
		fmt.Fprintf(stderr, "twinex: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "twinex: %v\n", err)
	return 1
}

// errUsage marks an error whose message the flag package already printed.
var errUsage = errors.New("usage")

// newFlags returns a FlagSet that prints its usage text to stderr.
func newFlags(name, text string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, text)
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning a bad command line into errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// envOr returns the environment variable's value, or def.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
