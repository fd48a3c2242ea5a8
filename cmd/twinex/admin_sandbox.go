package main

import (
	"context"
	"fmt"
	"io"
)

const sandboxUsage = `Sandbox controls (sandbox mode only):
  twinex admin save --name N       save the whole state under a name
  twinex admin restore --name N    replace the whole state with a saved one
  twinex admin reset               return to a clean state (a new demo account)
  twinex admin snapshots           list the saved names
  twinex admin price set --symbol S --price P
                                   jump a market's simulated reference price
  twinex admin sim pause|resume|status
                                   stop, restart or describe the simulator
`

// adminSandbox runs save, restore, reset and snapshots.
func adminSandbox(ctx context.Context, c *adminClient, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin "+cmd, sandboxUsage, stderr)
	name := fs.String("name", "", "the snapshot's name (letters, digits, '-' and '_')")
	if err := parse(fs, args); err != nil {
		return err
	}
	var err error
	switch cmd {
	case "save", "restore":
		if *name == "" {
			fmt.Fprintf(stderr, "admin %s: --name is required\n\n%s", cmd, sandboxUsage)
			return errUsage
		}
		if cmd == "save" {
			_, err = c.SaveSandbox(ctx, *name)
		} else {
			_, err = c.RestoreSandbox(ctx, *name)
		}
	case "reset":
		_, err = c.ResetSandbox(ctx)
	case "snapshots":
		_, err = c.Snapshots(ctx)
	}
	return c.print(stdout, err)
}

// adminSim runs "price set" and "sim pause|resume|status".
func adminSim(ctx context.Context, c *adminClient, cmd string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, sandboxUsage)
		return errUsage
	}
	var err error
	switch cmd + " " + args[0] {
	case "price set":
		fs := newFlags("admin price set", sandboxUsage, stderr)
		sym := fs.String("symbol", "", "market symbol, e.g. btcusd")
		price := fs.String("price", "", "the new reference price")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		_, err = c.SetPrice(ctx, *sym, *price)
	case "sim pause":
		_, err = c.PauseSim(ctx)
	case "sim resume":
		_, err = c.ResumeSim(ctx)
	case "sim status":
		_, err = c.SimStatus(ctx)
	default:
		fmt.Fprintf(stderr, "admin %s: unknown command %q\n\n%s", cmd, args[0], sandboxUsage)
		return errUsage
	}
	return c.print(stdout, err)
}
