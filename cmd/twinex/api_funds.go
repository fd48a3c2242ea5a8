package main

import (
	"context"

	"github.com/twinex/twinex/gemini"
)

// The funds commands of `twinex api`: transfers, withdrawals and deposit
// addresses.

func (a *apiCLI) transfers(ctx context.Context, args []string) error {
	fs := a.flags("transfers", `Usage: twinex api transfers [--currency C] [--limit N]

Prints the account's deposits and withdrawals, newest first
(POST /v1/transfers).

Example:
  twinex api transfers --currency btc --limit 5
`)
	currency := fs.String("currency", "", "only this currency (default: all)")
	limit := fs.Int("limit", 0, "how many transfers, at most 50 (default: the server's, 10)")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return a.usageError(fs, "--limit must not be negative")
	}
	o := gemini.TransfersOptions{Currency: *currency, Limit: *limit}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.Transfers(ctx, o) })
}

func (a *apiCLI) withdraw(ctx context.Context, args []string) error {
	fs := a.flags("withdraw", `Usage: twinex api withdraw --currency C --address A --amount N [--client-transfer-id ID]

Withdraws crypto to an address (POST /v1/withdraw/C). When address
allowlisting is on, the address must be approved first.

Example:
  twinex api withdraw --currency btc --address bc1q... --amount 0.01
`)
	currency := fs.String("currency", "", "currency, e.g. btc (required)")
	address := fs.String("address", "", "destination address (required)")
	amount := fs.String("amount", "", "amount (required)")
	clientID := fs.String("client-transfer-id", "", "your own id for the withdrawal")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"currency", *currency}, {"address", *address}, {"amount", *amount}} {
		if f.v == "" {
			return a.usageError(fs, "--%s is required", f.name)
		}
	}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) {
		return c.Withdraw(ctx, *currency, *address, gemini.Decimal(*amount), *clientID)
	})
}

func (a *apiCLI) depositAddress(ctx context.Context, args []string) error {
	fs := a.flags("deposit-address", `Usage: twinex api deposit-address --network N [--label L] [--list]

Creates a new deposit address on a network (POST /v1/deposit/N/newAddress),
or with --list prints the addresses created so far (POST /v1/addresses/N).
N is a network id such as bitcoin or ethereum (a currency code such as btc
also works for creating).

Examples:
  twinex api deposit-address --network bitcoin --label savings
  twinex api deposit-address --network bitcoin --list
`)
	network := fs.String("network", "", "network, e.g. bitcoin (required)")
	label := fs.String("label", "", "a label for the new address")
	list := fs.Bool("list", false, "list the existing addresses instead of creating one")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if *network == "" {
		return a.usageError(fs, "--network is required")
	}
	if *list && *label != "" {
		return a.usageError(fs, "--label creates an address; it does not go with --list")
	}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) {
		if *list {
			return c.Addresses(ctx, *network)
		}
		return c.NewDepositAddress(ctx, *network, *label)
	})
}
