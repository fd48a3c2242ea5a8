package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

const sandboxUsage = `Sandbox controls (sandbox mode only):
  twinex admin save --name N       save the whole state under a name
  twinex admin restore --name N    replace the whole state with a saved one
  twinex admin reset               return to a clean state (a new demo account)
  twinex admin snapshots           list the saved names
`

// adminSandbox runs save, restore, reset and snapshots.
func adminSandbox(ctx context.Context, c *adminClient, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin "+cmd, sandboxUsage, stderr)
	name := fs.String("name", "", "the snapshot's name (letters, digits, '-' and '_')")
	if err := parse(fs, args); err != nil {
		return err
	}
	var (
		out []byte
		err error
	)
	switch cmd {
	case "save", "restore":
		if *name == "" {
			fmt.Fprintf(stderr, "admin %s: --name is required\n\n%s", cmd, sandboxUsage)
			return errUsage
		}
		out, err = c.call(ctx, http.MethodPost, "/admin/v1/sandbox/"+cmd, map[string]any{"name": *name})
	case "reset":
		out, err = c.call(ctx, http.MethodPost, "/admin/v1/sandbox/reset", map[string]any{})
	case "snapshots":
		out, err = c.call(ctx, http.MethodGet, "/admin/v1/sandbox/snapshots", nil)
	}
	if err != nil {
		return err
	}
	stdout.Write(out)
	return nil
}
