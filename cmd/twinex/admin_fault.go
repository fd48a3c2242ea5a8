package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/twinex/twinex/fault"
)

const faultUsage = `Usage:
  twinex admin fault add [--key K] [--error RateLimit|Maintenance|InvalidNonce] [--count N]
        [--probability P] [--latency DURATION] [--expire-heartbeat] [--public] [--id ID]
        [--from WHEN] [--until WHEN]
  twinex admin fault list
  twinex admin fault remove --id ID
  twinex admin fault clear

Fault rules make a sandbox server misbehave on purpose; a production server
has none (its fault endpoints answer 404). Rules are tried in the order they
were added; the first that fires applies.
`

const faultAddUsage = `Usage: twinex admin fault add [--key K] [--error E] [--count N] [--probability P]
        [--latency DURATION] [--expire-heartbeat] [--public] [--id ID] [--from WHEN] [--until WHEN]
        [--drop-sockets] [--frame-delay DURATION] [--stop-heartbeats]

Adds a rule and prints it with its id. A rule applies to the signed requests
of --key, or of every key without one (and, with --public, to public GET
requests too). A request the rule fires on waits --latency, has its key's
heartbeat expired (the session's orders are cancelled, for keys that require
a heartbeat) and, with --error, gets that Gemini error instead of an answer:
RateLimit (429, Retry-After: 1), Maintenance (503) or InvalidNonce (400).

Socket faults reach the WebSocket feeds instead of requests: the order-event
sockets of --key (every key's without one) and, with --public, the market-data
sockets. --drop-sockets closes them now (close code 1001, so clients
reconnect; the rule is not kept); --frame-delay holds every write to them;
--stop-heartbeats silences their heartbeat messages while the rule is in place.
A rule needs at least one of --error, --latency, --expire-heartbeat,
--drop-sockets, --frame-delay and --stop-heartbeats.
--from and --until bound when the rule applies (an RFC 3339 time, or a
duration from now such as 10m); the rule is removed after --until.

A scheduled maintenance window, every API request answered 503 Maintenance
from 10 minutes from now for half an hour:

  twinex admin fault add --id maintenance --public --error Maintenance --from 10m --until 40m
`

func adminFault(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, faultUsage)
		return errUsage
	}
	var err error
	switch args[0] {
	case "add":
		return adminFaultAdd(ctx, c, args[1:], stdout, stderr)
	case "list":
		fs := newFlags("admin fault list", "Usage: twinex admin fault list\n\nPrints the rules in the order they are tried, with their remaining counts.\n", stderr)
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		_, err = c.Faults(ctx)
	case "remove":
		fs := newFlags("admin fault remove", "Usage: twinex admin fault remove --id ID\n\nRemoves one rule and prints it.\n", stderr)
		id := fs.String("id", "", "the rule's id, from add or list")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *id == "" {
			fmt.Fprint(stderr, "admin fault remove: --id is required\n")
			return errUsage
		}
		_, err = c.RemoveFault(ctx, *id)
	case "clear":
		fs := newFlags("admin fault clear", "Usage: twinex admin fault clear\n\nRemoves every rule.\n", stderr)
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		err = c.ClearFaults(ctx)
	case "-h", "--help", "help":
		fmt.Fprint(stderr, faultUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "admin fault: unknown command %q\n\n%s", args[0], faultUsage)
		return errUsage
	}
	return c.print(stdout, err)
}

func adminFaultAdd(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin fault add", faultAddUsage, stderr)
	id := fs.String("id", "", "the rule's id (default: assigned, f1, f2, ...)")
	key := fs.String("key", "", "the API key whose signed requests fail (default: every key)")
	reason := fs.String("error", "", "RateLimit, Maintenance or InvalidNonce")
	count := fs.Int("count", 0, "how many faults the rule injects before it is removed (default: unlimited)")
	probability := fs.Float64("probability", 0, "chance that a matching request gets the fault, 0 to 1 (default: always)")
	latency := fs.Duration("latency", 0, "delay added before the answer, e.g. 500ms (at most 1m)")
	expire := fs.Bool("expire-heartbeat", false, "expire the key's heartbeat now: cancel its session's orders")
	public := fs.Bool("public", false, "also apply to public endpoints (only without --key)")
	from := fs.String("from", "", "when the rule starts: an RFC 3339 time or a duration from now (default: at once)")
	until := fs.String("until", "", "when the rule ends and is removed: an RFC 3339 time or a duration from now (default: never)")
	drop := fs.Bool("drop-sockets", false, "close the key's WebSocket connections now (with --public and no --key: the market-data ones)")
	frameDelay := fs.Duration("frame-delay", 0, "hold each WebSocket write this long, e.g. 2s (at most 1m)")
	stopHB := fs.Bool("stop-heartbeats", false, "stop the WebSocket heartbeat messages while the rule is in place")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "admin fault add: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	spec := fault.Spec{ID: *id, Key: *key, Error: *reason, Count: *count, Probability: *probability,
		ExpireHeartbeat: *expire, Public: *public, DropSockets: *drop, StopHeartbeats: *stopHB}
	if *latency != 0 {
		spec.Latency = latency.String()
	}
	if *frameDelay != 0 {
		spec.FrameDelay = frameDelay.String()
	}
	for _, f := range []struct {
		name, v string
		to      *string
	}{{"from", *from, &spec.From}, {"until", *until, &spec.Until}} {
		if f.v == "" {
			continue
		}
		t, err := when(f.v, time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "admin fault add: --%s: %v\n", f.name, err)
			return errUsage
		}
		*f.to = t.UTC().Format(time.RFC3339)
	}
	_, err := c.AddFault(ctx, spec)
	return c.print(stdout, err)
}

// when reads a time given as RFC 3339 or as a duration from now ("10m").
func when(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 10m", s)
	}
	return t, nil
}
