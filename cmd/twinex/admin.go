package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
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

// adminClient calls the admin API.
type adminClient struct {
	server string
	token  string // from --token or TWINEX_ADMIN_TOKEN; else read from data
	data   string
	http   *http.Client
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
	c := &adminClient{server: strings.TrimRight(*server, "/"), data: *data, http: &http.Client{Timeout: 30 * time.Second}}
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

// call sends a request and returns the response body; API errors become Go
// errors carrying the reason and message.
func (c *adminClient) call(ctx context.Context, method, path string, body any) ([]byte, error) {
	token, err := c.authToken()
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Reason, Message string }
		if json.Unmarshal(out, &e) == nil && e.Reason != "" {
			return nil, fmt.Errorf("%s: %s (HTTP %d)", e.Reason, e.Message, resp.StatusCode)
		}
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func adminVerify(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin verify", "Usage: twinex admin verify\n\nRuns the ledger invariant check on the running server; exits 1 on any violation.\n", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	out, err := c.call(ctx, http.MethodGet, "/admin/v1/verify", nil)
	if err != nil {
		return err
	}
	stdout.Write(out)
	var v struct{ OK bool }
	if err := json.Unmarshal(out, &v); err != nil {
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
	out, err := c.call(ctx, http.MethodPost, "/admin/v1/"+cmd, ref(map[string]any{"currency": *cur, "amount": *amt}))
	if err != nil {
		return err
	}
	stdout.Write(out)
	return nil
}

func adminBalances(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin balances", "Usage: twinex admin balances ACCOUNT\n", stderr)
	ref := accountFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	out, err := c.call(ctx, http.MethodGet, "/admin/v1/balances?"+refQuery(ref(map[string]any{})), nil)
	if err != nil {
		return err
	}
	stdout.Write(out)
	return nil
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
	body := ref(map[string]any{"symbol": *sym, "side": *side, "price": *price, "amount": *amount})
	if *option != "" {
		body["options"] = []string{*option}
	}
	if *stop != "" {
		body["type"], body["stop_price"] = "exchange stop limit", *stop
	}
	if *client != "" {
		body["client_order_id"] = *client
	}
	out, err := c.call(ctx, http.MethodPost, "/admin/v1/orders", body)
	if err != nil {
		return err
	}
	stdout.Write(out)
	return nil
}

func adminCancel(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin cancel", "Usage: twinex admin cancel ACCOUNT --order ID\n", stderr)
	ref := accountFlags(fs)
	id := fs.Int64("order", 0, "order id")
	if err := parse(fs, args); err != nil {
		return err
	}
	out, err := c.call(ctx, http.MethodPost, "/admin/v1/orders/cancel", ref(map[string]any{"order_id": *id}))
	if err != nil {
		return err
	}
	stdout.Write(out)
	return nil
}

// accountFlags adds the flags that name an account (--email and --account,
// or --account-id) and returns a function adding them to a request body.
func accountFlags(fs *flag.FlagSet) func(map[string]any) map[string]any {
	email := fs.String("email", "", "the account owner's email")
	nick := fs.String("account", "", "the account's nickname (default: the primary account)")
	id := fs.Int64("account-id", 0, "the account's id, instead of --email")
	return func(body map[string]any) map[string]any {
		if *email != "" {
			body["email"] = *email
		}
		if *nick != "" {
			body["account"] = *nick
		}
		if *id != 0 {
			body["account_id"] = *id
		}
		return body
	}
}

// refQuery renders an account reference as a query string.
func refQuery(ref map[string]any) string {
	q := url.Values{}
	for k, v := range ref {
		q.Set(k, fmt.Sprint(v))
	}
	return q.Encode()
}

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
		out, err := c.call(ctx, http.MethodPost, "/admin/v1/accounts", map[string]any{"email": *email, "password": *pw, "verified": *verified})
		if err != nil {
			return err
		}
		stdout.Write(out)
		return nil
	case "show":
		fs := newFlags("admin account show", "Usage: twinex admin account show --email E\n", stderr)
		email := fs.String("email", "", "the user's email")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		out, err := c.call(ctx, http.MethodGet, "/admin/v1/accounts?email="+url.QueryEscape(*email), nil)
		if err != nil {
			return err
		}
		stdout.Write(out)
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stderr, accountUsage)
		return nil
	}
	fmt.Fprintf(stderr, "admin account: unknown command %q\n\n%s", args[0], accountUsage)
	return errUsage
}

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
	var (
		method = http.MethodPost
		path   string
		body   any
	)
	switch args[0] {
	case "create":
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
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		path = "/admin/v1/keys"
		body = map[string]any{"email": *email, "roles": *roles, "master": *master, "account": *nick, "ip": []string(ips),
			"heartbeat": *heartbeat, "time_nonce": *timeNonce, "label": *label, "expires": *expires}
	case "list":
		fs := newFlags("admin key list", "Usage: twinex admin key list --email E\n", stderr)
		email := fs.String("email", "", "the keys' owner")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		method, path = http.MethodGet, "/admin/v1/keys?email="+url.QueryEscape(*email)
	case "revoke":
		fs := newFlags("admin key revoke", "Usage: twinex admin key revoke --key K\n", stderr)
		key := fs.String("key", "", "the key id")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		path, body = "/admin/v1/keys/revoke", map[string]any{"key": *key}
	case "rotate":
		fs := newFlags("admin key rotate", "Usage: twinex admin key rotate --key K [--grace DURATION]\n\n"+
			"Gives the key a new secret, printed once; the old secret keeps working for --grace (e.g. 10m).\n", stderr)
		key := fs.String("key", "", "the key id")
		grace := fs.String("grace", "", "how long the old secret keeps working (default: not at all)")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		path, body = "/admin/v1/keys/rotate", map[string]any{"key": *key, "grace": *grace}
	case "-h", "--help", "help":
		fmt.Fprint(stderr, keyUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "admin key: unknown command %q\n\n%s", args[0], keyUsage)
		return errUsage
	}
	out, err := c.call(ctx, method, path, body)
	if err != nil {
		return err
	}
	stdout.Write(out)
	return nil
}
