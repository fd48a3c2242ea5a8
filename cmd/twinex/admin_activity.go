package main

import (
	"context"
	"fmt"
	"io"

	"github.com/twinex/twinex/admin"
)

const activityUsage = `Usage:
  twinex admin activity --email E [--key K] [--since DURATION] [--outcome O] [--limit N] [--json]
  twinex admin activity --unknown [--since DURATION] [--json]

Prints the activity log: the API requests that named the user's keys (or,
with --unknown, keys that do not exist), newest first. --outcome is ok,
error or a Gemini reason such as InvalidSignature. Records reach the log
within about a quarter of a second.
`

func adminActivity(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin activity", activityUsage, stderr)
	email := fs.String("email", "", "the user whose keys' requests to print")
	key := fs.String("key", "", "only this key")
	since := fs.String("since", "", "only the last DURATION, e.g. 1h")
	outcome := fs.String("outcome", "", "ok, error or a reason")
	limit := fs.Int("limit", 1000, "at most this many records")
	unknown := fs.Bool("unknown", false, "requests that named keys that do not exist")
	asJSON := fs.Bool("json", false, "print a JSON array (the default prints one line per record)")
	if err := parse(fs, args); err != nil {
		return err
	}
	recs, err := c.Activity(ctx, admin.ActivityQuery{Email: *email, Key: *key, Since: *since, Outcome: *outcome, Limit: *limit, Unknown: *unknown})
	if err != nil {
		return err
	}
	if *asJSON {
		stdout.Write(c.capture.body)
		return nil
	}
	for _, r := range recs {
		fmt.Fprintf(stdout, "%s  %s  %-15s  %s %s  %s (%d)  %dµs\n", r.Time, r.Key, r.IP, r.Method, r.Path, r.Outcome, r.Status, r.LatencyUS)
	}
	return nil
}
