package main

import (
	"context"

	"github.com/twinex/twinex/gemini"
)

// The market data commands of `twinex api`: public, no credentials.

func (a *apiCLI) ticker(ctx context.Context, args []string) error {
	fs := a.flags("ticker", `Usage: twinex api ticker SYMBOL

Prints a market's ticker (GET /v1/pubticker/SYMBOL): best bid, best ask, last
price and the 24-hour volume in each currency.

Example:
  twinex api ticker btcusd
`)
	pos, err := a.args(fs, args, "SYMBOL")
	if err != nil {
		return err
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) { return c.Ticker(ctx, pos[0]) })
}

func (a *apiCLI) symbols(ctx context.Context, args []string) error {
	fs := a.flags("symbols", `Usage: twinex api symbols

Prints the symbol of every market (GET /v1/symbols).

Example:
  twinex api symbols
`)
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) { return c.Symbols(ctx) })
}

func (a *apiCLI) book(ctx context.Context, args []string) error {
	fs := a.flags("book", `Usage: twinex api book SYMBOL [--limit N]

Prints a market's order book (GET /v1/book/SYMBOL): bids from the best down,
asks from the best up.

Example:
  twinex api book btcusd --limit 10
`)
	limit := fs.Int("limit", 50, "price levels per side; 0 for all")
	pos, err := a.args(fs, args, "SYMBOL")
	if err != nil {
		return err
	}
	if *limit < 0 {
		return a.usageError(fs, "--limit must not be negative")
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) {
		return c.OrderBook(ctx, pos[0], *limit, *limit)
	})
}

func (a *apiCLI) trades(ctx context.Context, args []string) error {
	fs := a.flags("trades", `Usage: twinex api trades SYMBOL [--limit N]

Prints a market's recent public trades, newest first (GET /v1/trades/SYMBOL).

Example:
  twinex api trades btcusd --limit 20
`)
	limit := fs.Int("limit", 0, "how many trades, at most 500 (default: the server's, 50)")
	pos, err := a.args(fs, args, "SYMBOL")
	if err != nil {
		return err
	}
	if *limit < 0 {
		return a.usageError(fs, "--limit must not be negative")
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) {
		return c.Trades(ctx, pos[0], gemini.TradesOptions{Limit: *limit})
	})
}

func (a *apiCLI) candles(ctx context.Context, args []string) error {
	fs := a.flags("candles", `Usage: twinex api candles SYMBOL [--timeframe TF]

Prints a market's candles, newest first (GET /v2/candles/SYMBOL/TF), each as
[time_ms, open, high, low, close, volume]. TF is one of 1m 5m 15m 30m 1hr
6hr 1day.

Example:
  twinex api candles btcusd --timeframe 1hr
`)
	tf := fs.String("timeframe", gemini.TimeFrame1m, "time frame")
	pos, err := a.args(fs, args, "SYMBOL")
	if err != nil {
		return err
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) { return c.Candles(ctx, pos[0], *tf) })
}
