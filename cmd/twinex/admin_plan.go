package main

import (
	"context"
	"fmt"
	"io"
)

const planUsage = `Usage: twinex admin plan --email E [--set PLAN]

Shows a user's plan, or assigns one with --set. A plan is the number of
signed requests each of the user's API keys may make per UTC day:
free (100000, every user's until changed), pro (1000000), unlimited.
`

func adminPlan(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin plan", planUsage, stderr)
	email := fs.String("email", "", "the user's email")
	set := fs.String("set", "", "the plan to assign")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" {
		fmt.Fprint(stderr, "admin plan: --email is required\n\n"+planUsage)
		return errUsage
	}
	var err error
	if *set == "" {
		_, err = c.Plan(ctx, *email)
	} else {
		_, err = c.SetPlan(ctx, *email, *set)
	}
	return c.print(stdout, err)
}
