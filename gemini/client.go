package gemini

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Base URLs of Gemini's REST API. Twinex serves the same paths at the root of
// its own host, so its base URL is simply its address (e.g.
// "http://127.0.0.1:8080").
const (
	ProductionURL = "https://api.gemini.com"
	SandboxURL    = "https://api.sandbox.gemini.com"
)

// DefaultUserAgent is the User-Agent sent unless WithUserAgent sets another.
const DefaultUserAgent = "twinex-gemini-go/1"

// maxResponseBytes bounds a response body; anything longer fails to decode.
const maxResponseBytes = 64 << 20

// Client is a Gemini REST API client. It is safe for concurrent use; see
// NonceSource for what concurrency means for nonces.
type Client struct {
	baseURL   string
	apiKey    string
	apiSecret string
	hc        *http.Client
	nonce     NonceSource
	account   string
	userAgent string

	// Settings that only matter while New builds the default nonce source.
	now       func() time.Time
	timeNonce bool
}

// Option configures a Client in New.
type Option func(*Client)

// WithHTTPClient sets the *http.Client used for every request (timeouts,
// proxies, TLS, test transports). The default is http.DefaultClient; set one
// with a Timeout in production, or pass contexts with deadlines.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithNonceSource replaces the nonce source. It overrides WithTimeNonce.
func WithNonceSource(ns NonceSource) Option {
	return func(c *Client) { c.nonce = ns }
}

// WithTimeNonce makes the client send the current Unix time in seconds as the
// nonce, for API keys created with "Uses a time based nonce": such keys accept
// any nonce within 30 seconds of the server's clock, in any order, so
// parallel requests are safe. Do not use it with an ordinary (session nonce)
// key: a seconds nonce is smaller than any millisecond nonce already used.
func WithTimeNonce() Option {
	return func(c *Client) { c.timeNonce = true }
}

// WithClock sets the clock the default nonce sources read (time.Now unless
// set). It is meant for tests.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// WithAccount sets the account nickname (e.g. "primary") that a master API key
// acts for. It is added as "account" to the payload of every account-scoped
// private request; the group-level endpoints (CreateAccount, RenameAccount,
// ListAccounts, AccountTransfer, Transactions, Roles) never get it. Leave it
// unset for account keys: Gemini rejects "account" from them with
// AccountsOnGroupOnlyApi. See also ForAccount.
func WithAccount(nickname string) Option {
	return func(c *Client) { c.account = nickname }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client for the API at baseURL (ProductionURL, SandboxURL or a
// Twinex address; a trailing slash is ignored). apiKey and apiSecret may be
// empty for a client that only calls public endpoints.
//
// By default nonces are strictly increasing Unix milliseconds (see
// NewMillisNonce), sent as JSON strings of digits.
func New(baseURL, apiKey, apiSecret string, opts ...Option) *Client {
	c := &Client{
		baseURL:   strings.TrimRight(baseURL, "/"),
		apiKey:    apiKey,
		apiSecret: apiSecret,
		hc:        http.DefaultClient,
		userAgent: DefaultUserAgent,
		now:       time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	if c.nonce == nil {
		if c.timeNonce {
			c.nonce = NewSecondsNonce(c.now)
		} else {
			c.nonce = NewMillisNonce(c.now)
		}
	}
	return c
}

// ForAccount returns a client that acts for the account nickname: a copy of c
// sharing its HTTP client and nonce source (so nonces keep increasing across
// both), with the account of WithAccount replaced. It is the per-call way for
// a master key to address several accounts:
//
//	c.ForAccount("my-secondary-account").Balances(ctx)
func (c *Client) ForAccount(nickname string) *Client {
	cp := *c
	cp.account = nickname
	return &cp
}

// BaseURL returns the base URL requests go to.
func (c *Client) BaseURL() string { return c.baseURL }

// NonceSource produces the nonce of each private request.
//
// Gemini's default (session) nonce must be strictly greater than the last one
// the server accepted for the API key. A source that never repeats is not
// enough when calls run concurrently: two requests signed in nonce order may
// reach the server in the other order, and the later-arriving smaller nonce is
// rejected with InvalidNonce. Serialize private calls on a session-nonce key,
// retry on InvalidNonce, or use a time-based key (WithTimeNonce).
type NonceSource interface {
	Nonce() int64
}

// NonceFunc adapts a function to a NonceSource.
type NonceFunc func() int64

// Nonce calls f.
func (f NonceFunc) Nonce() int64 { return f() }

// NewMillisNonce returns the default nonce source: the Unix time in
// milliseconds read from now, bumped to the last value plus one when the clock
// has not moved on (two requests in the same millisecond, or the clock stepping
// back), so values are strictly increasing. It is safe for concurrent use.
func NewMillisNonce(now func() time.Time) NonceSource {
	if now == nil {
		now = time.Now
	}
	return &millisNonce{now: now}
}

type millisNonce struct {
	now  func() time.Time
	last atomic.Int64
}

func (n *millisNonce) Nonce() int64 {
	t := n.now().UnixMilli()
	for {
		last := n.last.Load()
		next := max(t, last+1)
		if n.last.CompareAndSwap(last, next) {
			return next
		}
	}
}

// NewSecondsNonce returns a nonce source for time-based-nonce keys: the Unix
// time in seconds read from now. Values repeat within a second, which such
// keys allow.
func NewSecondsNonce(now func() time.Time) NonceSource {
	if now == nil {
		now = time.Now
	}
	return NonceFunc(func() int64 { return now().Unix() })
}

// Sign returns the X-GEMINI-SIGNATURE value for a payload: the lower-case hex
// HMAC-SHA384 of the base64 payload string (as sent in X-GEMINI-PAYLOAD),
// keyed with the API secret's bytes as given (the secret is not decoded).
func Sign(secret, payloadB64 string) string {
	m := hmac.New(sha512.New384, []byte(secret))
	m.Write([]byte(payloadB64))
	return hex.EncodeToString(m.Sum(nil))
}

// SignedHeader returns the three authentication headers (X-GEMINI-APIKEY,
// X-GEMINI-PAYLOAD, X-GEMINI-SIGNATURE) for a request to path with params,
// taking a fresh nonce. It is what the client sends with every private call;
// it is exported for requests the client does not wrap, such as the
// WebSocket upgrade of /v1/order/events (whose request is the path without
// the query string). The account of WithAccount is added when set.
func (c *Client) SignedHeader(path string, params map[string]any) (http.Header, error) {
	return c.signedHeader(path, params, true)
}

func (c *Client) signedHeader(path string, params map[string]any, accountScoped bool) (http.Header, error) {
	if c.apiKey == "" || c.apiSecret == "" {
		return nil, errors.New("gemini: private endpoint needs an API key and secret")
	}
	p := make(map[string]any, len(params)+3)
	for k, v := range params {
		p[k] = v
	}
	if _, set := p["account"]; !set && accountScoped && c.account != "" {
		p["account"] = c.account
	}
	p["request"] = path
	// The nonce goes out as a JSON string of digits, as ccxt sends it to real
	// Gemini: servers accept a string or a number, and a string survives any
	// JSON parser that would read a large number into a float.
	p["nonce"] = strconv.FormatInt(c.nonce.Nonce(), 10)
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("gemini: encode payload: %w", err)
	}
	payload := base64.StdEncoding.EncodeToString(raw)
	h := make(http.Header, 3)
	h.Set("X-GEMINI-APIKEY", c.apiKey)
	h.Set("X-GEMINI-PAYLOAD", payload)
	h.Set("X-GEMINI-SIGNATURE", Sign(c.apiSecret, payload))
	return h, nil
}

// get calls a public endpoint.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	u := c.baseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("gemini: GET %s: %w", path, err)
	}
	return c.do(req, path, out)
}

// call calls an endpoint with get, post or postGroup and returns its
// answer decoded into a new T.
func call[T, A any](ctx context.Context, send func(context.Context, string, A, any) error, path string, args A) (*T, error) {
	var out T
	if err := send(ctx, path, args, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// post calls an account-scoped private endpoint.
func (c *Client) post(ctx context.Context, path string, params map[string]any, out any) error {
	return c.private(ctx, path, params, true, out)
}

// postGroup calls a group-level private endpoint, which never gets the
// default account.
func (c *Client) postGroup(ctx context.Context, path string, params map[string]any, out any) error {
	return c.private(ctx, path, params, false, out)
}

func (c *Client) private(ctx context.Context, path string, params map[string]any, accountScoped bool, out any) error {
	// Build the request first: the nonce is taken as late as possible.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, http.NoBody)
	if err != nil {
		return fmt.Errorf("gemini: POST %s: %w", path, err)
	}
	h, err := c.signedHeader(path, params, accountScoped)
	if err != nil {
		return err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	// As Gemini documents: everything is in the payload header, the body is
	// empty.
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Cache-Control", "no-cache")
	req.ContentLength = 0
	return c.do(req, path, out)
}

func (c *Client) do(req *http.Request, path string, out any) error {
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("gemini: %s %s: %w", req.Method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("gemini: %s %s: read response: %w", req.Method, path, err)
	}
	if err := checkResponse(resp.StatusCode, body); err != nil {
		return fmt.Errorf("gemini: %s %s: %w", req.Method, path, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("gemini: %s %s: decode response: %w", req.Method, path, err)
	}
	return nil
}

// segment escapes one path segment (a symbol, currency or network), refusing
// an empty one, which would call a different endpoint.
func segment(name, v string) (string, error) {
	if v == "" {
		return "", fmt.Errorf("gemini: %s is required", name)
	}
	return url.PathEscape(v), nil
}

// millis is the request form of a "since" time: Unix milliseconds, which
// Gemini accepts wherever a timestamp parameter is taken (values above 1e11
// are read as milliseconds, smaller ones as seconds).
func millis(t time.Time) int64 { return t.UnixMilli() }

// orderIDParam returns an order id for a payload as a JSON number, the type
// Gemini documents for order_id inputs. Order ids are decimal integers.
func orderIDParam(id string) (json.Number, error) {
	if id == "" {
		return "", errors.New("gemini: order id is required")
	}
	if _, err := strconv.ParseUint(id, 10, 63); err != nil {
		return "", fmt.Errorf("gemini: order id %q is not a decimal integer", id)
	}
	return json.Number(id), nil
}
