package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/twinex/twinex/admin"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

const keyUsage = `Usage:
  twinex admin key create --email E --roles R[,R...] [--master] [--account NICKNAME]
        [--ip CIDR]... [--heartbeat] [--time-nonce] [--label L] [--expires RFC3339]
  twinex admin key list --email E
  twinex admin key revoke --key K
  twinex admin key rotate --key K [--grace DURATION]

Roles: trader, fundmanager, auditor (alone), administrator (master keys only).
`

func adminKey(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keyUsage)
		return errUsage
	}
	switch args[0] {
	case "create":
		return adminKeyCreate(ctx, c, args[1:], stdout, stderr)
	case "list":
		fs := newFlags("admin key list", "Usage: twinex admin key list --email E\n", stderr)
		email := fs.String("email", "", "the keys' owner")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		_, err := c.Keys(ctx, *email)
		return c.print(stdout, err)
	case "revoke":
		fs := newFlags("admin key revoke", "Usage: twinex admin key revoke --key K\n", stderr)
		key := fs.String("key", "", "the key id")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		_, err := c.RevokeKey(ctx, *key)
		return c.print(stdout, err)
	case "rotate":
		fs := newFlags("admin key rotate", "Usage: twinex admin key rotate --key K [--grace DURATION]\n\n"+
			"Gives the key a new secret, printed once; the old secret keeps working for --grace (e.g. 10m).\n", stderr)
		key := fs.String("key", "", "the key id")
		grace := fs.String("grace", "", "how long the old secret keeps working (default: not at all)")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		_, err := c.RotateKey(ctx, *key, *grace)
		return c.print(stdout, err)
	case "-h", "--help", "help":
		fmt.Fprint(stderr, keyUsage)
		return nil
	}
	fmt.Fprintf(stderr, "admin key: unknown command %q\n\n%s", args[0], keyUsage)
	return errUsage
}

func adminKeyCreate(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin key create", "Usage: twinex admin key create --email E --roles R[,R...] [flags]\n\n"+
		"Creates an API key and prints {\"key\":\"account-...\",\"secret\":\"...\",...}. The secret is\n"+
		"shown this once. Refused for a user whose identity is not verified.\n", stderr)
	email := fs.String("email", "", "the key owner's email")
	roles := fs.String("roles", "", "trader, fundmanager, auditor, administrator (comma-separated)")
	master := fs.Bool("master", false, "a master key acting for the user's whole group")
	nick := fs.String("account", "", "the account an account key acts for (default: primary)")
	var ips stringList
	fs.Var(&ips, "ip", "an allowed address or CIDR range (repeatable; none allows any)")
	heartbeat := fs.Bool("heartbeat", false, "cancel the key's orders after 30 s without a request")
	timeNonce := fs.Bool("time-nonce", false, "nonces are seconds within 30 s of server time")
	label := fs.String("label", "", "a label")
	expires := fs.String("expires", "", "expiry time, RFC 3339 (default: never)")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, err := c.CreateKey(ctx, admin.CreateKeyRequest{Email: *email, Roles: *roles, Master: *master, Account: *nick, IP: []string(ips),
		Heartbeat: *heartbeat, TimeNonce: *timeNonce, Label: *label, Expires: *expires})
	return c.print(stdout, err)
}
