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
	"strings"
	"time"

	"github.com/twinex/twinex/gemini"
)

const apiUsage = `Usage: twinex api [--base-url URL] [--credentials FILE] [--compact] COMMAND [flags]

Calls the Gemini exchange API of a Twinex server (or of Gemini itself) with
the Go client package github.com/twinex/twinex/gemini, and prints the JSON
the server returned.

Market data (no credentials needed):
  ticker SYMBOL                          best bid, best ask, last price, 24h volume
  symbols                                every market's symbol
  book SYMBOL [--limit N]                the order book
  trades SYMBOL [--limit N]              recent public trades
  candles SYMBOL [--timeframe TF]        candles: 1m 5m 15m 30m 1hr 6hr 1day
  watch book|trades|candles SYMBOL       stream a WebSocket feed, one JSON line per message
  watch orders                           stream the key's order events (needs an API key)

Private (needs an API key):
  balances                               the account's balances
  order new --symbol S --side buy|sell --amount A --price P
            [--option O] [--stop P] [--client-order-id ID]
                                         place a limit (or stop-limit) order
  order cancel --id ID                   cancel an order
  order status --id ID | --client-order-id ID
                                         show an order
  orders                                 the account's live orders
  mytrades [--symbol S] [--limit N]      the account's trades
  roles                                  the API key's roles
  heartbeat                              keep a heartbeat key's orders alive
  cancel-all                             cancel every live order of the account
  cancel-session                         cancel the live orders of this API key
  account                                the account the key acts for
  transfers [--currency C] [--limit N]   deposits and withdrawals
  withdraw --currency C --address A --amount N
                                         withdraw crypto to an address
  deposit-address --network N [--label L] [--list]
                                         create (or list) deposit addresses

Credentials come from --credentials FILE if given, else from the environment
variables GEMINI_API_KEY and GEMINI_API_SECRET, else from the file
~/.config/twinex/credentials ($XDG_CONFIG_HOME/twinex/credentials when that
is set). The file holds the same lines you would paste into a shell:

  # twinex api credentials
  GEMINI_API_KEY=account-...
  GEMINI_API_SECRET=...

Blank lines, # comments, an "export " prefix and quotes around a value are
allowed; other names are ignored. The file must be private (chmod 600
FILE): it is refused when its group or others have any access. The secret
is never printed.

The server is --base-url, else TWINEX_BASE_URL, else GEMINI_BASE_URL, else
http://$TWINEX_LISTEN, else http://127.0.0.1:8080. "sandbox" and
"production" name Gemini's own servers.

Output is the server's JSON, indented (one line with --compact). An error
answered by the server exits 1 with "twinex: <Reason>: <message>"; a bad
command line exits 2. Run "twinex api COMMAND --help" for a command's flags.

Example:
  export GEMINI_API_KEY=account-... GEMINI_API_SECRET=...
  twinex api ticker btcusd
  twinex api order new --symbol btcusd --side buy --amount 0.01 --price 30000
`

// apiCLI holds the global flags of `twinex api` and what every command
// shares: the output, the credentials and the client.
type apiCLI struct {
	stdout, stderr io.Writer

	baseURL     string
	credentials string // --credentials, "" when not given
	account     string // --account: the nickname a master key acts for
	timeNonce   bool
	timeout     time.Duration
	compact     bool

	capture captureTransport
}

func runAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := &apiCLI{stdout: stdout, stderr: stderr}
	fs := newFlags("api", apiUsage, stderr)
	fs.StringVar(&a.baseURL, "base-url", "", "server URL (default: TWINEX_BASE_URL, GEMINI_BASE_URL, http://$TWINEX_LISTEN, http://127.0.0.1:8080)")
	fs.StringVar(&a.credentials, "credentials", "", "credentials file (default: GEMINI_API_KEY/GEMINI_API_SECRET, then "+displayPath(defaultCredentialsPath())+")")
	fs.StringVar(&a.account, "account", "", "account nickname a master key acts for")
	fs.BoolVar(&a.timeNonce, "time-nonce", false, "send time-based nonces (for keys created with time_nonce)")
	fs.DurationVar(&a.timeout, "timeout", 30*time.Second, "HTTP timeout of a request")
	fs.BoolVar(&a.compact, "compact", false, "print JSON on one line")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	a.baseURL = apiBaseURL(a.baseURL)
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "help":
		fs.Usage()
		return nil
	case "watch":
		return a.watch(ctx, rest)
	case "ticker":
		return a.ticker(ctx, rest)
	case "symbols":
		return a.symbols(ctx, rest)
	case "book":
		return a.book(ctx, rest)
	case "trades":
		return a.trades(ctx, rest)
	case "candles":
		return a.candles(ctx, rest)
	case "balances":
		return a.simple(ctx, rest, "balances", "Prints the account's balance of each currency (POST /v1/balances).",
			func(ctx context.Context, c *gemini.Client) (any, error) { return c.Balances(ctx) })
	case "order":
		return a.order(ctx, rest)
	case "orders":
		return a.simple(ctx, rest, "orders", "Prints the account's live orders (POST /v1/orders).",
			func(ctx context.Context, c *gemini.Client) (any, error) { return c.ActiveOrders(ctx) })
	case "mytrades":
		return a.myTrades(ctx, rest)
	case "roles":
		return a.simple(ctx, rest, "roles", "Prints the roles of the API key (POST /v1/roles).",
			func(ctx context.Context, c *gemini.Client) (any, error) { return c.Roles(ctx) })
	case "heartbeat":
		return a.simple(ctx, rest, "heartbeat", "Sends a heartbeat (POST /v1/heartbeat), which keeps the orders of a key\ncreated with \"heartbeat\" alive for another 30 seconds.",
			func(ctx context.Context, c *gemini.Client) (any, error) { return nil, c.Heartbeat(ctx) })
	case "cancel-all":
		return a.simple(ctx, rest, "cancel-all", "Cancels every live order of the account, whichever key or the dashboard\nplaced it (POST /v1/order/cancel/all).",
			func(ctx context.Context, c *gemini.Client) (any, error) { return c.CancelAll(ctx) })
	case "cancel-session":
		return a.simple(ctx, rest, "cancel-session", "Cancels the live orders placed with this API key\n(POST /v1/order/cancel/session).",
			func(ctx context.Context, c *gemini.Client) (any, error) { return c.CancelSession(ctx) })
	case "account":
		return a.simple(ctx, rest, "account", "Prints the account the API key acts for and its users (POST /v1/account).",
			func(ctx context.Context, c *gemini.Client) (any, error) { return c.Account(ctx) })
	case "transfers":
		return a.transfers(ctx, rest)
	case "withdraw":
		return a.withdraw(ctx, rest)
	case "deposit-address":
		return a.depositAddress(ctx, rest)
	}
	fmt.Fprintf(stderr, "api: unknown command %q\n\n", cmd)
	fs.Usage()
	return errUsage
}

// flags returns a command's FlagSet; every command also takes --compact, so
// that it may come after the command too.
func (a *apiCLI) flags(name, text string) *flag.FlagSet {
	fs := newFlags("api "+name, text, a.stderr)
	fs.BoolVar(&a.compact, "compact", a.compact, "print JSON on one line")
	return fs
}

// args parses a command line whose flags may come before or after its
// positional arguments ("book btcusd --limit 5") and requires exactly the
// named positionals.
func (a *apiCLI) args(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			pos = append(pos, rest...) // everything after "--" is positional
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != len(names) {
		if len(names) == 0 {
			fmt.Fprintf(a.stderr, "%s: unexpected argument %q\n\n", fs.Name(), pos[0])
		} else {
			fmt.Fprintf(a.stderr, "%s: want %s\n\n", fs.Name(), strings.Join(names, " "))
		}
		fs.Usage()
		return nil, errUsage
	}
	return pos, nil
}

// usageError prints a problem with the command line and the command's usage.
func (a *apiCLI) usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(a.stderr, "%s: %s\n\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return errUsage
}

// simple runs a command that takes no arguments and needs credentials.
func (a *apiCLI) simple(ctx context.Context, args []string, name, what string, call func(context.Context, *gemini.Client) (any, error)) error {
	fs := a.flags(name, "Usage: twinex api "+name+"\n\n"+what+"\n\nExample:\n  twinex api "+name+"\n")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	return a.call(ctx, true, call)
}

// call makes one API call and prints the JSON the server answered with. A
// session nonce rejected as InvalidNonce is retried once: two runs of the
// command within one millisecond send the same nonce, and a rejected request
// had no effect.
func (a *apiCLI) call(ctx context.Context, private bool, f func(context.Context, *gemini.Client) (any, error)) error {
	c, err := a.client(private)
	if err != nil {
		return err
	}
	v, err := f(ctx, c)
	if private && !a.timeNonce && gemini.IsReason(err, gemini.ReasonInvalidNonce) {
		time.Sleep(5 * time.Millisecond)
		v, err = f(ctx, c)
	}
	if err != nil {
		return a.error(err)
	}
	return a.print(v)
}

// error turns an error answered by the server into "<Reason>: <message>",
// and a server that could not be reached into a hint about --base-url; other
// errors (the client's own checks) pass unchanged.
func (a *apiCLI) error(err error) error {
	var e *gemini.APIError
	var ue *url.Error
	switch {
	case errors.As(err, &ue) && !errors.Is(err, context.Canceled):
		return fmt.Errorf("cannot reach %s (is the server running? see --base-url): %w", a.baseURL, ue.Err)
	case !errors.As(err, &e):
		return err
	}
	reason := e.Reason
	if reason == "" {
		reason = fmt.Sprintf("HTTP %d", e.Status)
	}
	if e.Message == "" {
		return errors.New(reason)
	}
	return fmt.Errorf("%s: %s", reason, e.Message)
}

// print writes the body of the last response, indented or compacted; when
// it is not JSON (it always is from a Gemini server) the decoded value is
// printed instead.
func (a *apiCLI) print(v any) error {
	raw := bytes.TrimSpace(a.capture.body)
	if !json.Valid(raw) {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
	}
	var buf bytes.Buffer
	if a.compact {
		json.Compact(&buf, raw)
	} else {
		json.Indent(&buf, raw, "", "  ")
	}
	buf.WriteByte('\n')
	_, err := a.stdout.Write(buf.Bytes())
	return err
}

// client returns a client of the server; a private one carries the
// credentials.
func (a *apiCLI) client(private bool) (*gemini.Client, error) {
	var key, secret string
	if private {
		var err error
		if key, secret, err = loadCredentials(a.credentials); err != nil {
			return nil, err
		}
	}
	a.capture.base = http.DefaultTransport
	opts := []gemini.Option{
		gemini.WithHTTPClient(&http.Client{Timeout: a.timeout, Transport: &a.capture}),
		gemini.WithUserAgent("twinex-cli " + gemini.DefaultUserAgent),
	}
	if a.account != "" {
		opts = append(opts, gemini.WithAccount(a.account))
	}
	if a.timeNonce {
		opts = append(opts, gemini.WithTimeNonce())
	}
	return gemini.New(a.baseURL, key, secret, opts...), nil
}
