package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twinex/twinex/admin"
)

const adminUsage = `Usage: twinex admin [--server URL] [--data DIR] [--token T] <command> [flags]

Talks to a running server's admin API. Each command prints JSON on success
and exits non-zero with a message on failure.

Commands:
  account create --email E [--password P] [--verified]
                                          create a user and its primary account
  account show --email E                  show a user and its accounts
  kyc approve --email E | kyc reject --email E --reason R | kyc pending
                                          review users' identity verification
  plan --email E [--set free|pro|unlimited]
                                          show or assign a user's plan (daily
                                          signed requests per key)
  activity --email E [--key K] [--since D] [--outcome O] [--json] | activity --unknown
                                          the API requests made with a user's keys
  key create --email E --roles R[,R...] [--master] [--account NICKNAME]
        [--ip CIDR]... [--heartbeat] [--time-nonce] [--label L] [--expires RFC3339]
                                          create an API key; prints its secret once
  key list --email E                      list a user's keys (never their secrets)
  key revoke --key K                      revoke a key; its next request fails
  key rotate --key K [--grace DURATION]   give a key a new secret; the old one
                                          keeps working for the grace period
  verify                                  run the ledger invariant check
  fund ACCOUNT --currency C --amount A    deposit funds into an account
  withdraw ACCOUNT --currency C --amount A
                                          take funds out of an account
  balances ACCOUNT                        show an account's balances
  order ACCOUNT --symbol S --side buy|sell --price P --amount A
        [--option maker-or-cancel|immediate-or-cancel|fill-or-kill] [--stop P]
                                          place an order for an account
  cancel ACCOUNT --order ID               cancel an account's order
  fault add [--key K] [--error RateLimit|Maintenance|InvalidNonce] [--count N]
        [--probability P] [--latency DURATION] [--expire-heartbeat] [--public]
                                          make requests fail on purpose (sandbox only)
  fault list | fault remove --id ID | fault clear
                                          show or remove fault rules
  backup --to FILE [--log]                copy the store (and the activity log)
                                          while the server keeps serving
  migrate --from sqlite:DIR --to postgres://... [--master-key-file F]
                                          copy a stopped SQLite installation into an
                                          empty PostgreSQL schema and check the copy
                                          (runs here, without a server)
  market list | market status --symbol S --set open|closed|cancel_only|post_only|limit_only
                                          show or set markets' status
  save --name N | restore --name N | reset | snapshots
                                          sandbox: save, restore or reset the whole state
  scenario run FILE | scenario status | scenario stop
                                          sandbox: play a scripted market scenario
  price set --symbol S --price P          sandbox: jump a market's simulated price
  sim pause | sim resume | sim status     sandbox: stop, restart or describe the simulator

ACCOUNT is --email E [--account NICKNAME] (the user's primary account unless
a nickname is given), or --account-id ID.

The token comes from --token, else TWINEX_ADMIN_TOKEN, else <data>/admin.token.
`

// adminClient calls the admin API through the typed client of package
// admin. The commands print the server's answer as it came (capture
// keeps it), so that their output is the admin API's JSON.
type adminClient struct {
	*admin.Client
	token   string // from --token or TWINEX_ADMIN_TOKEN; else read from data
	data    string
	capture captureTransport
}

func newAdminClient(server, data string) *adminClient {
	c := &adminClient{data: data}
	c.capture.base = http.DefaultTransport
	c.Client = &admin.Client{URL: server, Token: c.authToken, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: &c.capture}}
	return c
}

// authToken returns the admin token, reading <data>/admin.token when none
// was given; it is looked up only when a request is made, so that --help
// works anywhere.
func (c *adminClient) authToken() (string, error) {
	if c.token != "" {
		return c.token, nil
	}
	b, err := os.ReadFile(filepath.Join(c.data, "admin.token"))
	if err != nil {
		return "", fmt.Errorf("admin token: pass --token, set TWINEX_ADMIN_TOKEN, or point --data at the server's data directory: %w", err)
	}
	c.token = strings.TrimSpace(string(b))
	return c.token, nil
}

// print writes the body of the last answer, after err, the error of the
// call that got it, is nil.
func (c *adminClient) print(stdout io.Writer, err error) error {
	if err != nil {
		return err
	}
	stdout.Write(c.capture.body)
	return nil
}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin", adminUsage, stderr)
	server := fs.String("server", "http://"+envOr("TWINEX_LISTEN", "127.0.0.1:8080"), "server URL")
	data := fs.String("data", envOr("TWINEX_DATA", "./twinex-data"), "data directory holding admin.token")
	token := fs.String("token", "", "admin token (default: TWINEX_ADMIN_TOKEN, then <data>/admin.token)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	c := newAdminClient(strings.TrimRight(*server, "/"), *data)
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	if cmd == "help" {
		fs.Usage()
		return nil
	}
	c.token = *token
	if c.token == "" {
		c.token = os.Getenv("TWINEX_ADMIN_TOKEN")
	}
	switch cmd {
	case "account":
		return adminAccount(ctx, c, rest, stdout, stderr)
	case "key":
		return adminKey(ctx, c, rest, stdout, stderr)
	case "save", "restore", "reset", "snapshots":
		return adminSandbox(ctx, c, cmd, rest, stdout, stderr)
	case "price", "sim":
		return adminSim(ctx, c, cmd, rest, stdout, stderr)
	case "kyc":
		return adminKYC(ctx, c, rest, stdout, stderr)
	case "activity":
		return adminActivity(ctx, c, rest, stdout, stderr)
	case "plan":
		return adminPlan(ctx, c, rest, stdout, stderr)
	case "backup":
		return adminBackup(ctx, c, rest, stdout, stderr)
	case "migrate":
		return adminMigrate(ctx, rest, stdout, stderr)
	case "verify":
		return adminVerify(ctx, c, rest, stdout, stderr)
	case "fund", "withdraw":
		return adminFunds(ctx, c, cmd, rest, stdout, stderr)
	case "balances":
		return adminBalances(ctx, c, rest, stdout, stderr)
	case "order":
		return adminOrder(ctx, c, rest, stdout, stderr)
	case "cancel":
		return adminCancel(ctx, c, rest, stdout, stderr)
	case "fault":
		return adminFault(ctx, c, rest, stdout, stderr)
	case "market":
		return adminMarket(ctx, c, rest, stdout, stderr)
	case "scenario":
		return adminScenario(ctx, c, rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "admin: unknown command %q\n\n", cmd)
	fs.Usage()
	return errUsage
}
