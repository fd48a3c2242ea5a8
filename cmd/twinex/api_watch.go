package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/twinex/twinex/gemini"
)

const watchUsage = `Usage:
  twinex api watch book SYMBOL [--count N]
  twinex api watch trades SYMBOL [--count N]
  twinex api watch candles SYMBOL [--timeframe TF] [--count N]
  twinex api watch orders [--symbol S] [--count N]

Streams a WebSocket feed and prints each message as one line of JSON, until
interrupted (or until --count messages were printed). book, trades and
candles use market data v2 (/v2/marketdata): book prints the l2 snapshot and
then every change, trades every trade, candles the recent candles and then
every changed one. orders uses the order events of the API key
(/v1/order/events): the open orders, then every event. A dropped connection
is reopened, and the feed starts again with a snapshot.

Example:
  twinex api watch book btcusd
  twinex api --credentials twinex-data/demo.credentials watch orders
`

func (a *apiCLI) watch(ctx context.Context, args []string) error { // long: one subcommand: its flags, the feed it streams and how it prints
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(a.stderr, watchUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	what := args[0]
	fs := a.flags("watch "+what, watchUsage)
	count := fs.Int("count", 0, "stop after this many messages (default: never)")
	tf := fs.String("timeframe", "1m", "candles: 1m 5m 15m 30m 1hr 6hr 1day (or 1h 6h 1d)")
	symbol := fs.String("symbol", "", "orders: only this market")
	var names []string
	if what != "orders" {
		names = []string{"SYMBOL"}
	}
	pos, err := a.args(fs, args[1:], names...)
	if err != nil {
		return err
	}
	printed := 0
	errDone := errors.New("done")
	emit := func(raw []byte) error {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return err
		}
		buf.WriteByte('\n')
		if _, err := a.stdout.Write(buf.Bytes()); err != nil {
			return err
		}
		if printed++; *count > 0 && printed >= *count {
			return errDone
		}
		return nil
	}
	var run func(c *gemini.Client) error
	switch what {
	case "book", "trades", "candles":
		sym := strings.ToUpper(pos[0])
		name := "l2"
		if what == "candles" {
			name = "candles_" + *tf
		}
		run = func(c *gemini.Client) error {
			return c.StreamMarketData(ctx, []gemini.Subscription{{Name: name, Symbols: []string{sym}}}, func(m gemini.MarketMessage) error {
				switch {
				case m.Type == "error":
					return fmt.Errorf("%s", m.Reason)
				case what == "book" && m.Type == "l2_updates",
					what == "trades" && m.Type == "trade",
					what == "candles" && strings.HasPrefix(m.Type, "candles_"):
					return emit(m.Raw)
				}
				return nil
			})
		}
	case "orders":
		var opts gemini.OrderEventsOptions
		if *symbol != "" {
			opts.Symbols = []string{strings.ToLower(*symbol)}
		}
		run = func(c *gemini.Client) error {
			return c.StreamOrderEvents(ctx, opts, func(m gemini.OrderMessage) error {
				if m.Kind == "heartbeat" || m.Kind == "subscription_ack" {
					return nil
				}
				return emit(m.Raw)
			})
		}
	default:
		fmt.Fprintf(a.stderr, "watch: unknown feed %q\n\n%s", what, watchUsage)
		return errUsage
	}
	c, err := a.client(what == "orders")
	if err != nil {
		return err
	}
	err = run(c)
	if errors.Is(err, errDone) || errors.Is(err, context.Canceled) {
		return nil
	}
	var he *gemini.HandshakeError
	if errors.As(err, &he) {
		var e struct{ Reason, Message string }
		if json.Unmarshal([]byte(he.Body), &e) == nil && e.Reason != "" {
			return fmt.Errorf("%s: %s", e.Reason, e.Message)
		}
	}
	return err
}
