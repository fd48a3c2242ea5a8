package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/twinex/twinex/app"
)

const scenarioUsage = `Usage:
  twinex admin scenario run FILE     play a scenario file (or a shipped example by
                                     name: flash-crash, halt-and-reopen, slow-bleed)
  twinex admin scenario status       the running or last scenario's progress
  twinex admin scenario stop         stop the running scenario (its changes stay)

A scenario scripts a sandbox market over time: price jumps and drifts,
volatility regimes, wider spreads, liquidity pulled, market status changes,
maintenance windows and faults. Its seed reseeds the simulator, so the same
scenario from the same state (say, right after admin restore) gives the same
price path and flow (trades may shift with wall-clock jitter). One runs at a
time; a new run stops the previous one. The file format is in the README and
in package scenario.
`

func adminScenario(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, scenarioUsage)
		return errUsage
	}
	var err error
	switch args[0] {
	case "run":
		if len(args) != 2 {
			fmt.Fprint(stderr, "admin scenario run: want one FILE\n\n"+scenarioUsage)
			return errUsage
		}
		data, lerr := app.LoadScenario(args[1])
		if lerr != nil {
			return lerr
		}
		_, err = c.RunScenario(ctx, json.RawMessage(data))
	case "status":
		_, err = c.ScenarioStatus(ctx)
	case "stop":
		_, err = c.StopScenario(ctx)
	case "-h", "--help", "help":
		fmt.Fprint(stderr, scenarioUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "admin scenario: unknown command %q\n\n%s", args[0], scenarioUsage)
		return errUsage
	}
	return c.print(stdout, err)
}
