package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/twinex/twinex/admin"
)

// The admin commands on money: the ledger check, funds, balances and
// orders of an account.

func adminVerify(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin verify", "Usage: twinex admin verify\n\nRuns the ledger invariant check on the running server; exits 1 on any violation.\n", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	v, err := c.Verify(ctx)
	if err := c.print(stdout, err); err != nil {
		return err
	}
	if !v.OK {
		return errors.New("ledger check failed")
	}
	return nil
}

func adminFunds(ctx context.Context, c *adminClient, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin "+cmd, "Usage: twinex admin "+cmd+" ACCOUNT --currency C --amount A\n", stderr)
	ref := accountFlags(fs)
	cur := fs.String("currency", "", "currency code, e.g. USD")
	amt := fs.String("amount", "", "amount, e.g. 1000.50")
	if err := parse(fs, args); err != nil {
		return err
	}
	r := admin.FundsRequest{AccountRef: ref(), Currency: *cur, Amount: *amt}
	var err error
	if cmd == "withdraw" {
		_, err = c.Withdraw(ctx, r)
	} else {
		_, err = c.Fund(ctx, r)
	}
	return c.print(stdout, err)
}

func adminBalances(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin balances", "Usage: twinex admin balances ACCOUNT\n", stderr)
	ref := accountFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	_, err := c.Balances(ctx, ref())
	return c.print(stdout, err)
}

func adminOrder(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin order", "Usage: twinex admin order ACCOUNT --symbol S --side buy|sell --price P --amount A [--option O] [--stop P]\n", stderr)
	ref := accountFlags(fs)
	sym := fs.String("symbol", "", "market symbol, e.g. btcusd")
	side := fs.String("side", "", "buy or sell")
	price := fs.String("price", "", "limit price")
	amount := fs.String("amount", "", "amount")
	option := fs.String("option", "", "maker-or-cancel, immediate-or-cancel or fill-or-kill")
	stop := fs.String("stop", "", "stop price (makes a stop-limit order)")
	client := fs.String("client-order-id", "", "client order id")
	if err := parse(fs, args); err != nil {
		return err
	}
	r := admin.OrderRequest{AccountRef: ref(), Symbol: *sym, Side: *side, Price: *price, Amount: *amount, ClientOrderID: *client}
	if *option != "" {
		r.Options = []string{*option}
	}
	if *stop != "" {
		r.Type, r.StopPrice = "exchange stop limit", *stop
	}
	_, err := c.PlaceOrder(ctx, r)
	return c.print(stdout, err)
}

func adminCancel(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin cancel", "Usage: twinex admin cancel ACCOUNT --order ID\n", stderr)
	ref := accountFlags(fs)
	id := fs.Int64("order", 0, "order id")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, err := c.CancelOrder(ctx, admin.CancelRequest{AccountRef: ref(), OrderID: *id})
	return c.print(stdout, err)
}

// accountFlags adds the flags that name an account (--email and --account,
// or --account-id) and returns a function returning the account they name.
func accountFlags(fs *flag.FlagSet) func() admin.AccountRef {
	email := fs.String("email", "", "the account owner's email")
	nick := fs.String("account", "", "the account's nickname (default: the primary account)")
	id := fs.Int64("account-id", 0, "the account's id, instead of --email")
	return func() admin.AccountRef { return admin.AccountRef{Email: *email, Account: *nick, AccountID: *id} }
}
