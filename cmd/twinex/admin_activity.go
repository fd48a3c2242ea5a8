package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	for k, v := range map[string]string{"email": *email, "key": *key, "since": *since, "outcome": *outcome} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *unknown {
		q.Set("unknown", "true")
	}
	out, err := c.call(ctx, http.MethodGet, "/admin/v1/activity?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	if *asJSON {
		stdout.Write(out)
		return nil
	}
	var recs []struct {
		Time, Key, IP, Method, Path, Outcome string
		Status                               int
		LatencyUS                            int64 `json:"latency_us"`
	}
	if err := json.Unmarshal(out, &recs); err != nil {
		return err
	}
	for _, r := range recs {
		fmt.Fprintf(stdout, "%s  %s  %-15s  %s %s  %s (%d)  %dµs\n", r.Time, r.Key, r.IP, r.Method, r.Path, r.Outcome, r.Status, r.LatencyUS)
	}
	return nil
}
