package main

import (
	"context"
	"fmt"
	"io"
)

const kycUsage = `Usage:
  twinex admin kyc approve --email E [--submitted NS]
                                              approve a user's identity
  twinex admin kyc reject --email E --reason R [--submitted NS]
                                              reject it, with a reason the user sees
  twinex admin kyc pending                    list submissions waiting for review

--submitted takes a submission's submitted_ns from the pending list: the
decision then applies only if that is still the user's pending submission
(not one the user sent since).
`

func adminKYC(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, kycUsage)
		return errUsage
	}
	var err error
	switch args[0] {
	case "approve", "reject":
		fs := newFlags("admin kyc "+args[0], kycUsage, stderr)
		email := fs.String("email", "", "the user's email")
		reason := fs.String("reason", "", "why the identity is rejected (shown to the user)")
		submitted := fs.Int64("submitted", 0, "decide only the submission with this submitted_ns")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		_, err = c.ReviewIdentity(ctx, *email, args[0], *reason, *submitted)
	case "pending":
		_, err = c.PendingIdentities(ctx)
	case "-h", "--help", "help":
		fmt.Fprint(stderr, kycUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "admin kyc: unknown command %q\n\n%s", args[0], kycUsage)
		return errUsage
	}
	return c.print(stdout, err)
}
