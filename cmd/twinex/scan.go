package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/twinex/twinex/scan"
)

const scanUsage = `Usage: twinex scan [--history=false] [PATH...]

Finds Twinex API secrets (twxs_ followed by 34 characters whose checksum is
right) in the files under each PATH (default: the current directory) and,
when a PATH is the top of a git repository, in every commit of its history.
Binary files (a NUL byte in their first 8000 bytes), files over 50 MiB and .git
directories are skipped (the history is read through git instead). Prints
the place of each finding with the secret shortened, and exits with status
1 when something is found, 0 when nothing is, and 2 when a PATH cannot be
read. Revoke or rotate each secret found (or report it at /secrets/v1/report,
which revokes it): it may be copied already.
`

// errFound is the scan's "something was found" outcome (exit status 1);
// errScan marks a scan that could not finish (exit status 2, like grep).
var (
	errFound = errors.New("secrets found")
	errScan  = errors.New("scan failed")
)

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scan", scanUsage, stderr)
	history := fs.Bool("history", true, "also scan the history of git repositories")
	if err := parse(fs, args); err != nil {
		return err
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	count := 0
	report := func(f scan.Finding) {
		count++
		fmt.Fprintln(stdout, f)
	}
	for _, p := range paths {
		if err := scan.Tree(p, report); err != nil {
			return fmt.Errorf("%w: %w", errScan, err)
		}
		if *history && scan.IsRepo(p) {
			if err := scan.History(ctx, p, report); err != nil {
				return fmt.Errorf("%w: %w", errScan, err)
			}
		}
	}
	if count > 0 {
		fmt.Fprintf(stderr, "%d secret(s) found\n", count)
		return errFound
	}
	return nil
}
