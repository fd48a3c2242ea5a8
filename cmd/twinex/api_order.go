package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/twinex/twinex/gemini"
)

// The order commands of `twinex api`: placing, cancelling and reading
// orders, and the account's trades.

const orderUsage = `Usage:
  twinex api order new --symbol S --side buy|sell --amount A --price P [--option O] [--stop P] [--client-order-id ID]
  twinex api order cancel --id ID
  twinex api order status --id ID | --client-order-id ID

Run "twinex api order new --help" (or cancel, status) for details.
`

func (a *apiCLI) order(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, orderUsage)
		return errUsage
	}
	switch args[0] {
	case "new":
		return a.orderNew(ctx, args[1:])
	case "cancel":
		return a.orderCancel(ctx, args[1:])
	case "status":
		return a.orderStatus(ctx, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(a.stderr, orderUsage)
		return flag.ErrHelp
	}
	fmt.Fprintf(a.stderr, "api order: unknown command %q\n\n%s", args[0], orderUsage)
	return errUsage
}

func (a *apiCLI) orderNew(ctx context.Context, args []string) error {
	fs := a.flags("order new", `Usage: twinex api order new --symbol S --side buy|sell --amount A --price P
         [--option O] [--stop P] [--client-order-id ID]

Places a limit order (POST /v1/order/new) and prints its status. A limit
order rests on the book until it fills or is cancelled, unless --option says
otherwise: maker-or-cancel (never takes), immediate-or-cancel (fills what it
can now, cancels the rest) or fill-or-kill (fills completely now or not at
all). With --stop it is a stop-limit order, which enters the book at --price
once a trade prints at or through the stop price.

Examples:
  twinex api order new --symbol btcusd --side buy --amount 0.5 --price 30000
  twinex api order new --symbol btcusd --side sell --amount 0.1 --price 29000 --option immediate-or-cancel
  twinex api order new --symbol btcusd --side sell --amount 0.1 --price 27900 --stop 28000
`)
	symbol := fs.String("symbol", "", "market symbol, e.g. btcusd (required)")
	side := fs.String("side", "", "buy or sell (required)")
	amount := fs.String("amount", "", "amount of the base currency (required)")
	price := fs.String("price", "", "limit price in the quote currency (required)")
	option := fs.String("option", "", "maker-or-cancel, immediate-or-cancel or fill-or-kill")
	stop := fs.String("stop", "", "stop price: makes a stop-limit order")
	clientID := fs.String("client-order-id", "", "your own id for the order")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"symbol", *symbol}, {"side", *side}, {"amount", *amount}, {"price", *price}} {
		if f.v == "" {
			return a.usageError(fs, "--%s is required", f.name)
		}
	}
	if *side != gemini.SideBuy && *side != gemini.SideSell {
		return a.usageError(fs, "--side must be buy or sell, not %q", *side)
	}
	r := gemini.NewOrderRequest{Symbol: *symbol, Side: *side, Amount: gemini.Decimal(*amount), Price: gemini.Decimal(*price), ClientOrderID: *clientID}
	if *option != "" {
		r.Options = []string{*option}
	}
	if *stop != "" {
		r.Type, r.StopPrice = gemini.OrderTypeExchangeStopLimit, gemini.Decimal(*stop)
	}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.NewOrder(ctx, r) })
}

func (a *apiCLI) orderCancel(ctx context.Context, args []string) error {
	fs := a.flags("order cancel", `Usage: twinex api order cancel --id ID

Cancels an order (POST /v1/order/cancel) and prints its final status.

Example:
  twinex api order cancel --id 1234
`)
	id := fs.String("id", "", "order id (required)")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return a.usageError(fs, "--id is required")
	}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.CancelOrder(ctx, *id) })
}

func (a *apiCLI) orderStatus(ctx context.Context, args []string) error {
	fs := a.flags("order status", `Usage: twinex api order status --id ID | --client-order-id ID [--trades]

Prints an order's status (POST /v1/order/status), found by its order id or
by the client order id given when it was placed (the latest such order).

Examples:
  twinex api order status --id 1234
  twinex api order status --client-order-id my-order-7 --trades
`)
	id := fs.String("id", "", "order id")
	clientID := fs.String("client-order-id", "", "client order id")
	trades := fs.Bool("trades", false, "include the order's trades")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if (*id == "") == (*clientID == "") {
		return a.usageError(fs, "give one of --id and --client-order-id")
	}
	r := gemini.OrderStatusRequest{OrderID: *id, ClientOrderID: *clientID, IncludeTrades: *trades}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.OrderStatus(ctx, r) })
}

func (a *apiCLI) myTrades(ctx context.Context, args []string) error {
	fs := a.flags("mytrades", `Usage: twinex api mytrades [--symbol S] [--limit N]

Prints the account's trades, newest first (POST /v1/mytrades).

Example:
  twinex api mytrades --symbol btcusd --limit 10
`)
	symbol := fs.String("symbol", "", "only this market (default: all)")
	limit := fs.Int("limit", 0, "how many trades, at most 500 (default: the server's, 50)")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return a.usageError(fs, "--limit must not be negative")
	}
	o := gemini.MyTradesOptions{Symbol: *symbol, Limit: *limit}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.MyTrades(ctx, o) })
}
