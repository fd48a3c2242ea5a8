package main

import (
	"context"
	"fmt"
	"io"
)

const marketUsage = `Usage:
  twinex admin market list
  twinex admin market status --symbol S --set open|closed|cancel_only|post_only|limit_only

Shows every market's status, or sets one's. The status is Gemini's: which
orders the market accepts. open takes every order; closed and cancel_only
take none (orders can still be cancelled; a closed market also leaves
/v1/symbols); post_only takes only maker-or-cancel orders; limit_only takes
limit orders (every order the API places). Refused orders get 400
MarketNotOpen. The status is kept in the store and survives restarts.
`

func adminMarket(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, marketUsage)
		return errUsage
	}
	var err error
	switch args[0] {
	case "list":
		fs := newFlags("admin market list", marketUsage, stderr)
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		_, err = c.Markets(ctx)
	case "status":
		fs := newFlags("admin market status", marketUsage, stderr)
		symbol := fs.String("symbol", "", "the market, e.g. btcusd")
		set := fs.String("set", "", "the new status")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *symbol == "" || *set == "" {
			fmt.Fprint(stderr, "admin market status: --symbol and --set are required\n\n"+marketUsage)
			return errUsage
		}
		_, err = c.SetMarketStatus(ctx, *symbol, *set)
	case "-h", "--help", "help":
		fmt.Fprint(stderr, marketUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "admin market: unknown command %q\n\n%s", args[0], marketUsage)
		return errUsage
	}
	return c.print(stdout, err)
}
