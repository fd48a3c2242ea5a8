package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
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

func (a *apiCLI) ticker(ctx context.Context, args []string) error {
	fs := a.flags("ticker", `Usage: twinex api ticker SYMBOL

Prints a market's ticker (GET /v1/pubticker/SYMBOL): best bid, best ask, last
price and the 24-hour volume in each currency.

Example:
  twinex api ticker btcusd
`)
	pos, err := a.args(fs, args, "SYMBOL")
	if err != nil {
		return err
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) { return c.Ticker(ctx, pos[0]) })
}

func (a *apiCLI) symbols(ctx context.Context, args []string) error {
	fs := a.flags("symbols", `Usage: twinex api symbols

Prints the symbol of every market (GET /v1/symbols).

Example:
  twinex api symbols
`)
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) { return c.Symbols(ctx) })
}

func (a *apiCLI) book(ctx context.Context, args []string) error {
	fs := a.flags("book", `Usage: twinex api book SYMBOL [--limit N]

Prints a market's order book (GET /v1/book/SYMBOL): bids from the best down,
asks from the best up.

Example:
  twinex api book btcusd --limit 10
`)
	limit := fs.Int("limit", 50, "price levels per side; 0 for all")
	pos, err := a.args(fs, args, "SYMBOL")
	if err != nil {
		return err
	}
	if *limit < 0 {
		return a.usageError(fs, "--limit must not be negative")
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) {
		return c.OrderBook(ctx, pos[0], *limit, *limit)
	})
}

func (a *apiCLI) trades(ctx context.Context, args []string) error {
	fs := a.flags("trades", `Usage: twinex api trades SYMBOL [--limit N]

Prints a market's recent public trades, newest first (GET /v1/trades/SYMBOL).

Example:
  twinex api trades btcusd --limit 20
`)
	limit := fs.Int("limit", 0, "how many trades, at most 500 (default: the server's, 50)")
	pos, err := a.args(fs, args, "SYMBOL")
	if err != nil {
		return err
	}
	if *limit < 0 {
		return a.usageError(fs, "--limit must not be negative")
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) {
		return c.Trades(ctx, pos[0], gemini.TradesOptions{Limit: *limit})
	})
}

func (a *apiCLI) candles(ctx context.Context, args []string) error {
	fs := a.flags("candles", `Usage: twinex api candles SYMBOL [--timeframe TF]

Prints a market's candles, newest first (GET /v2/candles/SYMBOL/TF), each as
[time_ms, open, high, low, close, volume]. TF is one of 1m 5m 15m 30m 1hr
6hr 1day.

Example:
  twinex api candles btcusd --timeframe 1hr
`)
	tf := fs.String("timeframe", gemini.TimeFrame1m, "time frame")
	pos, err := a.args(fs, args, "SYMBOL")
	if err != nil {
		return err
	}
	return a.call(ctx, false, func(ctx context.Context, c *gemini.Client) (any, error) { return c.Candles(ctx, pos[0], *tf) })
}

const orderUsage = `Usage:
  twinex api order new --symbol S --side buy|sell --amount A --price P [--option O] [--stop P] [--client-order-id ID]
  twinex api order cancel --id ID
  twinex api order status --id ID | --client-order-id ID

Run "twinex api order new --help" (or cancel, status) for details.
`

func (a *apiCLI) order(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, orderUsage)
		return errUsage
	}
	switch args[0] {
	case "new":
		return a.orderNew(ctx, args[1:])
	case "cancel":
		return a.orderCancel(ctx, args[1:])
	case "status":
		return a.orderStatus(ctx, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(a.stderr, orderUsage)
		return flag.ErrHelp
	}
	fmt.Fprintf(a.stderr, "api order: unknown command %q\n\n%s", args[0], orderUsage)
	return errUsage
}

func (a *apiCLI) orderNew(ctx context.Context, args []string) error {
	fs := a.flags("order new", `Usage: twinex api order new --symbol S --side buy|sell --amount A --price P
         [--option O] [--stop P] [--client-order-id ID]

Places a limit order (POST /v1/order/new) and prints its status. A limit
order rests on the book until it fills or is cancelled, unless --option says
otherwise: maker-or-cancel (never takes), immediate-or-cancel (fills what it
can now, cancels the rest) or fill-or-kill (fills completely now or not at
all). With --stop it is a stop-limit order, which enters the book at --price
once a trade prints at or through the stop price.

Examples:
  twinex api order new --symbol btcusd --side buy --amount 0.5 --price 30000
  twinex api order new --symbol btcusd --side sell --amount 0.1 --price 29000 --option immediate-or-cancel
  twinex api order new --symbol btcusd --side sell --amount 0.1 --price 27900 --stop 28000
`)
	symbol := fs.String("symbol", "", "market symbol, e.g. btcusd (required)")
	side := fs.String("side", "", "buy or sell (required)")
	amount := fs.String("amount", "", "amount of the base currency (required)")
	price := fs.String("price", "", "limit price in the quote currency (required)")
	option := fs.String("option", "", "maker-or-cancel, immediate-or-cancel or fill-or-kill")
	stop := fs.String("stop", "", "stop price: makes a stop-limit order")
	clientID := fs.String("client-order-id", "", "your own id for the order")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"symbol", *symbol}, {"side", *side}, {"amount", *amount}, {"price", *price}} {
		if f.v == "" {
			return a.usageError(fs, "--%s is required", f.name)
		}
	}
	if *side != gemini.SideBuy && *side != gemini.SideSell {
		return a.usageError(fs, "--side must be buy or sell, not %q", *side)
	}
	r := gemini.NewOrderRequest{Symbol: *symbol, Side: *side, Amount: gemini.Decimal(*amount), Price: gemini.Decimal(*price), ClientOrderID: *clientID}
	if *option != "" {
		r.Options = []string{*option}
	}
	if *stop != "" {
		r.Type, r.StopPrice = gemini.OrderTypeExchangeStopLimit, gemini.Decimal(*stop)
	}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.NewOrder(ctx, r) })
}

func (a *apiCLI) orderCancel(ctx context.Context, args []string) error {
	fs := a.flags("order cancel", `Usage: twinex api order cancel --id ID

Cancels an order (POST /v1/order/cancel) and prints its final status.

Example:
  twinex api order cancel --id 1234
`)
	id := fs.String("id", "", "order id (required)")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return a.usageError(fs, "--id is required")
	}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.CancelOrder(ctx, *id) })
}

func (a *apiCLI) orderStatus(ctx context.Context, args []string) error {
	fs := a.flags("order status", `Usage: twinex api order status --id ID | --client-order-id ID [--trades]

Prints an order's status (POST /v1/order/status), found by its order id or
by the client order id given when it was placed (the latest such order).

Examples:
  twinex api order status --id 1234
  twinex api order status --client-order-id my-order-7 --trades
`)
	id := fs.String("id", "", "order id")
	clientID := fs.String("client-order-id", "", "client order id")
	trades := fs.Bool("trades", false, "include the order's trades")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if (*id == "") == (*clientID == "") {
		return a.usageError(fs, "give one of --id and --client-order-id")
	}
	r := gemini.OrderStatusRequest{OrderID: *id, ClientOrderID: *clientID, IncludeTrades: *trades}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.OrderStatus(ctx, r) })
}

func (a *apiCLI) myTrades(ctx context.Context, args []string) error {
	fs := a.flags("mytrades", `Usage: twinex api mytrades [--symbol S] [--limit N]

Prints the account's trades, newest first (POST /v1/mytrades).

Example:
  twinex api mytrades --symbol btcusd --limit 10
`)
	symbol := fs.String("symbol", "", "only this market (default: all)")
	limit := fs.Int("limit", 0, "how many trades, at most 500 (default: the server's, 50)")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return a.usageError(fs, "--limit must not be negative")
	}
	o := gemini.MyTradesOptions{Symbol: *symbol, Limit: *limit}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.MyTrades(ctx, o) })
}

func (a *apiCLI) transfers(ctx context.Context, args []string) error {
	fs := a.flags("transfers", `Usage: twinex api transfers [--currency C] [--limit N]

Prints the account's deposits and withdrawals, newest first
(POST /v1/transfers).

Example:
  twinex api transfers --currency btc --limit 5
`)
	currency := fs.String("currency", "", "only this currency (default: all)")
	limit := fs.Int("limit", 0, "how many transfers, at most 50 (default: the server's, 10)")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return a.usageError(fs, "--limit must not be negative")
	}
	o := gemini.TransfersOptions{Currency: *currency, Limit: *limit}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) { return c.Transfers(ctx, o) })
}

func (a *apiCLI) withdraw(ctx context.Context, args []string) error {
	fs := a.flags("withdraw", `Usage: twinex api withdraw --currency C --address A --amount N [--client-transfer-id ID]

Withdraws crypto to an address (POST /v1/withdraw/C). When address
allowlisting is on, the address must be approved first.

Example:
  twinex api withdraw --currency btc --address bc1q... --amount 0.01
`)
	currency := fs.String("currency", "", "currency, e.g. btc (required)")
	address := fs.String("address", "", "destination address (required)")
	amount := fs.String("amount", "", "amount (required)")
	clientID := fs.String("client-transfer-id", "", "your own id for the withdrawal")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"currency", *currency}, {"address", *address}, {"amount", *amount}} {
		if f.v == "" {
			return a.usageError(fs, "--%s is required", f.name)
		}
	}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) {
		return c.Withdraw(ctx, *currency, *address, gemini.Decimal(*amount), *clientID)
	})
}

func (a *apiCLI) depositAddress(ctx context.Context, args []string) error {
	fs := a.flags("deposit-address", `Usage: twinex api deposit-address --network N [--label L] [--list]

Creates a new deposit address on a network (POST /v1/deposit/N/newAddress),
or with --list prints the addresses created so far (POST /v1/addresses/N).
N is a network id such as bitcoin or ethereum (a currency code such as btc
also works for creating).

Examples:
  twinex api deposit-address --network bitcoin --label savings
  twinex api deposit-address --network bitcoin --list
`)
	network := fs.String("network", "", "network, e.g. bitcoin (required)")
	label := fs.String("label", "", "a label for the new address")
	list := fs.Bool("list", false, "list the existing addresses instead of creating one")
	if _, err := a.args(fs, args); err != nil {
		return err
	}
	if *network == "" {
		return a.usageError(fs, "--network is required")
	}
	if *list && *label != "" {
		return a.usageError(fs, "--label creates an address; it does not go with --list")
	}
	return a.call(ctx, true, func(ctx context.Context, c *gemini.Client) (any, error) {
		if *list {
			return c.Addresses(ctx, *network)
		}
		return c.NewDepositAddress(ctx, *network, *label)
	})
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

// captureTransport keeps the body of the last response, so that the command
// prints exactly what the server sent while package gemini still decodes it
// and recognizes errors.
type captureTransport struct {
	base http.RoundTripper
	body []byte
}

func (t *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.body = nil
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	t.body = b
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// apiBaseURL returns the server URL: the flag, else TWINEX_BASE_URL, else
// GEMINI_BASE_URL, else the address of TWINEX_LISTEN, else the default
// address of `twinex serve`.
func apiBaseURL(flagValue string) string {
	u := flagValue
	if u == "" {
		u = envOr("TWINEX_BASE_URL", os.Getenv("GEMINI_BASE_URL"))
	}
	switch u {
	case "sandbox":
		return gemini.SandboxURL
	case "production":
		return gemini.ProductionURL
	case "":
		return "http://" + dialAddr(envOr("TWINEX_LISTEN", "127.0.0.1:8080"))
	}
	if !strings.Contains(u, "://") {
		u = "http://" + u // "127.0.0.1:8080"
	}
	return strings.TrimRight(u, "/")
}

// dialAddr turns a listen address into one to connect to: a server
// listening on every interface (":8080", "0.0.0.0:8080") is reached on the
// loopback address.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// defaultCredentialsPath returns $XDG_CONFIG_HOME/twinex/credentials, else
// ~/.config/twinex/credentials ("" when there is no home directory).
func defaultCredentialsPath() string {
	if dir := os.Getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "twinex", "credentials")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "twinex", "credentials")
}

// displayPath shortens a path under the home directory to ~/...
func displayPath(p string) string {
	if home, err := os.UserHomeDir(); err == nil && home != "" && strings.HasPrefix(p, home+string(filepath.Separator)) {
		return "~" + p[len(home):]
	}
	return p
}

// loadCredentials returns the API key and secret: from the file when one is
// named, else from GEMINI_API_KEY and GEMINI_API_SECRET, else from the
// default file. No error ever includes the secret.
func loadCredentials(file string) (key, secret string, err error) {
	if file != "" {
		return readCredentials(file)
	}
	key, secret = os.Getenv("GEMINI_API_KEY"), os.Getenv("GEMINI_API_SECRET")
	switch {
	case key != "" && secret != "":
		return key, secret, nil
	case key != "":
		return "", "", errors.New("GEMINI_API_KEY is set but GEMINI_API_SECRET is not")
	case secret != "":
		return "", "", errors.New("GEMINI_API_SECRET is set but GEMINI_API_KEY is not")
	}
	def := defaultCredentialsPath()
	if def != "" {
		if _, err := os.Stat(def); err == nil {
			return readCredentials(def)
		}
	}
	where := "~/.config/twinex/credentials"
	if def != "" {
		where = displayPath(def)
	}
	return "", "", fmt.Errorf("no API credentials: this command needs an API key; set GEMINI_API_KEY and GEMINI_API_SECRET, "+
		"or write them to %s (or a file named by --credentials) as GEMINI_API_KEY=... and GEMINI_API_SECRET=... lines, with chmod 600", where)
}

// readCredentials reads a credentials file, refusing one that its group or
// others may access: it holds a secret that can trade and withdraw.
func readCredentials(path string) (key, secret string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("credentials: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", "", fmt.Errorf("credentials: %w", err)
	}
	// Windows has no Unix permission bits to check.
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return "", "", fmt.Errorf("credentials file %s is accessible by others (mode %04o); it holds your API secret: run chmod 600 %s",
			path, perm, path)
	}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			// The line is not quoted back: it may be a bare secret.
			return "", "", fmt.Errorf("credentials file %s, line %d: want NAME=VALUE", path, n)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		switch strings.TrimSpace(name) {
		case "GEMINI_API_KEY":
			key = value
		case "GEMINI_API_SECRET":
			secret = value
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("credentials file %s: %w", path, err)
	}
	if key == "" || secret == "" {
		return "", "", fmt.Errorf("credentials file %s needs both GEMINI_API_KEY=... and GEMINI_API_SECRET=... lines", path)
	}
	return key, secret, nil
}
