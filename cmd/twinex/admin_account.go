package main

import (
	"context"
	"fmt"
	"io"

	"github.com/twinex/twinex/admin"
)

const accountUsage = `Usage:
  twinex admin account create --email E [--password P] [--verified]
  twinex admin account show --email E
`

func adminAccount(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, accountUsage)
		return errUsage
	}
	switch args[0] {
	case "create":
		fs := newFlags("admin account create", "Usage: twinex admin account create --email E [--password P] [--verified]\n\n"+
			"Creates a user with a primary account and prints {\"id\":...,\"email\":...,\"account_id\":...}.\n", stderr)
		email := fs.String("email", "", "the user's email")
		pw := fs.String("password", "", "a password for the dashboard (optional)")
		verified := fs.Bool("verified", false, "mark the user's identity as verified")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		_, err := c.CreateUser(ctx, admin.CreateUserRequest{Email: *email, Password: *pw, Verified: *verified})
		return c.print(stdout, err)
	case "show":
		fs := newFlags("admin account show", "Usage: twinex admin account show --email E\n", stderr)
		email := fs.String("email", "", "the user's email")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		_, err := c.User(ctx, *email)
		return c.print(stdout, err)
	case "-h", "--help", "help":
		fmt.Fprint(stderr, accountUsage)
		return nil
	}
	fmt.Fprintf(stderr, "admin account: unknown command %q\n\n%s", args[0], accountUsage)
	return errUsage
}
