package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twinex/twinex/fault"
)

// Client calls a Twinex server's admin API. Its methods send the request
// types below and return the reply types of this package; Do sends any
// request.
type Client struct {
	// URL is the server's base URL, "http://127.0.0.1:8080".
	URL string
	// Token returns the admin token. It is called once per request, so
	// that a caller may look the token up only when one is needed.
	Token func() (string, error)
	// HTTP is the HTTP client; http.DefaultClient when nil.
	HTTP *http.Client
}

// Error is an answer other than 200 OK. Its text is "<Reason>: <message>
// (HTTP <status>)", or "HTTP <status>: <body>" when the body carries no
// reason.
type Error struct {
	Status  int
	Reason  string
	Message string
	Body    string // the body, trimmed, when it had no reason
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s: %s (HTTP %d)", e.Reason, e.Message, e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body)
}

// ReadError is the *Error of an answer with status and body.
func ReadError(status int, body []byte) *Error {
	e := &Error{Status: status}
	var reply struct{ Reason, Message string }
	if json.Unmarshal(body, &reply) == nil && reply.Reason != "" {
		e.Reason, e.Message = reply.Reason, reply.Message
	} else {
		e.Body = strings.TrimSpace(string(body))
	}
	return e
}

// Do sends a request with body encoded as JSON (none when nil; a
// json.RawMessage as it is) and decodes a 200 answer into out (unless nil).
// Errors of the transport come back as they are; answers other than 200
// are an *Error.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	token, err := c.Token()
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return ReadError(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin: %s %s: %w", method, path, err)
	}
	return nil
}

// AccountRef names an account: by its owner's email (the primary account,
// or the one with nickname Account), or by AccountID. Empty fields are left
// out.
type AccountRef struct {
	Email     string `json:"email,omitempty"`
	Account   string `json:"account,omitempty"`
	AccountID int64  `json:"account_id,omitempty"`
}

// query renders the reference as a query string.
func (r AccountRef) query() string {
	q := url.Values{}
	if r.Email != "" {
		q.Set("email", r.Email)
	}
	if r.Account != "" {
		q.Set("account", r.Account)
	}
	if r.AccountID != 0 {
		q.Set("account_id", strconv.FormatInt(r.AccountID, 10))
	}
	return q.Encode()
}

// FundsRequest is the body of Fund and Withdraw.
type FundsRequest struct {
	AccountRef
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

// Fund deposits into an account. POST /admin/v1/fund.
func (c *Client) Fund(ctx context.Context, r FundsRequest) (*Transfer, error) {
	return call[Transfer](ctx, c, http.MethodPost, "/admin/v1/fund", r)
}

// Withdraw takes funds out of an account. POST /admin/v1/withdraw.
func (c *Client) Withdraw(ctx context.Context, r FundsRequest) (*Transfer, error) {
	return call[Transfer](ctx, c, http.MethodPost, "/admin/v1/withdraw", r)
}

// Balances returns every balance of an account. GET /admin/v1/balances.
func (c *Client) Balances(ctx context.Context, ref AccountRef) ([]Balance, error) {
	return list[Balance](ctx, c, "/admin/v1/balances?"+ref.query())
}

// OrderRequest is the body of PlaceOrder. Symbol, Side, Price and Amount
// are always sent; the rest when set.
type OrderRequest struct {
	AccountRef
	Symbol        string   `json:"symbol"`
	Side          string   `json:"side"`
	Price         string   `json:"price"`
	Amount        string   `json:"amount"`
	Type          string   `json:"type,omitempty"` // "exchange limit" when empty
	StopPrice     string   `json:"stop_price,omitempty"`
	Options       []string `json:"options,omitempty"`
	ClientOrderID string   `json:"client_order_id,omitempty"`
	Session       string   `json:"session,omitempty"` // "admin" when empty
}

// PlaceOrder places an order for an account. POST /admin/v1/orders.
func (c *Client) PlaceOrder(ctx context.Context, r OrderRequest) (*Order, error) {
	return call[Order](ctx, c, http.MethodPost, "/admin/v1/orders", r)
}

// CancelRequest is the body of CancelOrder.
type CancelRequest struct {
	AccountRef
	OrderID int64 `json:"order_id"`
}

// CancelOrder cancels an account's order. POST /admin/v1/orders/cancel.
func (c *Client) CancelOrder(ctx context.Context, r CancelRequest) (*Order, error) {
	return call[Order](ctx, c, http.MethodPost, "/admin/v1/orders/cancel", r)
}

// Verify runs the ledger and book check. GET /admin/v1/verify.
func (c *Client) Verify(ctx context.Context) (*Verification, error) {
	return call[Verification](ctx, c, http.MethodGet, "/admin/v1/verify", nil)
}

// CreateUserRequest is the body of CreateUser.
type CreateUserRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"` // "" for none
	Verified bool   `json:"verified"`
}

// CreateUser creates a user with a primary account. POST /admin/v1/accounts.
func (c *Client) CreateUser(ctx context.Context, r CreateUserRequest) (*User, error) {
	return call[User](ctx, c, http.MethodPost, "/admin/v1/accounts", r)
}

// User returns a user and its accounts. GET /admin/v1/accounts.
func (c *Client) User(ctx context.Context, email string) (*User, error) {
	return call[User](ctx, c, http.MethodGet, "/admin/v1/accounts?email="+url.QueryEscape(email), nil)
}

// CreateKeyRequest is the body of CreateKey.
type CreateKeyRequest struct {
	Email     string   `json:"email"`
	Roles     string   `json:"roles"` // comma-separated
	Master    bool     `json:"master"`
	Account   string   `json:"account"` // nickname; "" for the primary account
	IP        []string `json:"ip"`      // addresses and CIDR ranges; none allows any
	Heartbeat bool     `json:"heartbeat"`
	TimeNonce bool     `json:"time_nonce"`
	Label     string   `json:"label"`
	Expires   string   `json:"expires"` // RFC 3339; "" for never
}

// CreateKey creates an API key; the answer holds its secret, shown once.
// POST /admin/v1/keys.
func (c *Client) CreateKey(ctx context.Context, r CreateKeyRequest) (*Key, error) {
	return call[Key](ctx, c, http.MethodPost, "/admin/v1/keys", r)
}

// Keys lists a user's keys, never their secrets. GET /admin/v1/keys.
func (c *Client) Keys(ctx context.Context, email string) ([]Key, error) {
	return list[Key](ctx, c, "/admin/v1/keys?email="+url.QueryEscape(email))
}

// RevokeKey revokes a key. POST /admin/v1/keys/revoke.
func (c *Client) RevokeKey(ctx context.Context, key string) (*Key, error) {
	return call[Key](ctx, c, http.MethodPost, "/admin/v1/keys/revoke", map[string]string{"key": key})
}

// RotateKey gives a key a new secret; the old one keeps working for grace
// (a Go duration, "10m"; "" for not at all). POST /admin/v1/keys/rotate.
func (c *Client) RotateKey(ctx context.Context, key, grace string) (*Key, error) {
	return call[Key](ctx, c, http.MethodPost, "/admin/v1/keys/rotate", map[string]string{"key": key, "grace": grace})
}

// ReviewIdentity decides a user's identity verification: decision is
// "approve" or "reject"; submittedNs, when not 0, names the submission the
// decision is about. POST /admin/v1/kyc.
func (c *Client) ReviewIdentity(ctx context.Context, email, decision, reason string, submittedNs int64) (*IdentityReview, error) {
	body := map[string]any{"email": email, "decision": decision, "reason": reason, "submitted_ns": submittedNs}
	return call[IdentityReview](ctx, c, http.MethodPost, "/admin/v1/kyc", body)
}

// PendingIdentities lists the submissions awaiting a decision.
// GET /admin/v1/kyc/pending.
func (c *Client) PendingIdentities(ctx context.Context) ([]PendingIdentity, error) {
	return list[PendingIdentity](ctx, c, "/admin/v1/kyc/pending")
}

// Plan returns a user's plan. GET /admin/v1/plan.
func (c *Client) Plan(ctx context.Context, email string) (*Plan, error) {
	return call[Plan](ctx, c, http.MethodGet, "/admin/v1/plan?email="+url.QueryEscape(email), nil)
}

// SetPlan assigns a plan (free, pro, unlimited) to a user.
// POST /admin/v1/plan.
func (c *Client) SetPlan(ctx context.Context, email, plan string) (*Plan, error) {
	return call[Plan](ctx, c, http.MethodPost, "/admin/v1/plan", map[string]string{"email": email, "plan": plan})
}

// SaveSandbox saves the sandbox's whole state under name.
// POST /admin/v1/sandbox/save.
func (c *Client) SaveSandbox(ctx context.Context, name string) (*SandboxResult, error) {
	return call[SandboxResult](ctx, c, http.MethodPost, "/admin/v1/sandbox/save", map[string]string{"name": name})
}

// RestoreSandbox replaces the sandbox's state with a saved one.
// POST /admin/v1/sandbox/restore.
func (c *Client) RestoreSandbox(ctx context.Context, name string) (*SandboxResult, error) {
	return call[SandboxResult](ctx, c, http.MethodPost, "/admin/v1/sandbox/restore", map[string]string{"name": name})
}

// ResetSandbox returns the sandbox to a clean state.
// POST /admin/v1/sandbox/reset.
func (c *Client) ResetSandbox(ctx context.Context) (*SandboxResult, error) {
	return call[SandboxResult](ctx, c, http.MethodPost, "/admin/v1/sandbox/reset", map[string]any{})
}

// Snapshots lists the sandbox's saved states.
// GET /admin/v1/sandbox/snapshots.
func (c *Client) Snapshots(ctx context.Context) (*Snapshots, error) {
	return call[Snapshots](ctx, c, http.MethodGet, "/admin/v1/sandbox/snapshots", nil)
}

// SetPrice moves the simulator's reference price of a market (the makers
// quote around it). POST /admin/v1/sandbox/price.
func (c *Client) SetPrice(ctx context.Context, symbol, price string) (*SimStatus, error) {
	return call[SimStatus](ctx, c, http.MethodPost, "/admin/v1/sandbox/price", map[string]string{"symbol": symbol, "price": price})
}

// PauseSim stops the simulator's orders. POST /admin/v1/sandbox/sim/pause.
func (c *Client) PauseSim(ctx context.Context) (*SimStatus, error) {
	return call[SimStatus](ctx, c, http.MethodPost, "/admin/v1/sandbox/sim/pause", map[string]any{})
}

// ResumeSim starts the simulator's orders again.
// POST /admin/v1/sandbox/sim/resume.
func (c *Client) ResumeSim(ctx context.Context) (*SimStatus, error) {
	return call[SimStatus](ctx, c, http.MethodPost, "/admin/v1/sandbox/sim/resume", map[string]any{})
}

// SimStatus describes the simulator. GET /admin/v1/sandbox/sim.
func (c *Client) SimStatus(ctx context.Context) (*SimStatus, error) {
	return call[SimStatus](ctx, c, http.MethodGet, "/admin/v1/sandbox/sim", nil)
}

// RunScenario starts the scenario file (JSON), stopping any running one.
// POST /admin/v1/sandbox/scenario.
func (c *Client) RunScenario(ctx context.Context, file json.RawMessage) (*ScenarioStatus, error) {
	return call[ScenarioStatus](ctx, c, http.MethodPost, "/admin/v1/sandbox/scenario", file)
}

// ScenarioStatus describes the current or last scenario run.
// GET /admin/v1/sandbox/scenario.
func (c *Client) ScenarioStatus(ctx context.Context) (*ScenarioStatus, error) {
	return call[ScenarioStatus](ctx, c, http.MethodGet, "/admin/v1/sandbox/scenario", nil)
}

// StopScenario stops the running scenario; what its steps changed stays.
// DELETE /admin/v1/sandbox/scenario.
func (c *Client) StopScenario(ctx context.Context) (*ScenarioStatus, error) {
	return call[ScenarioStatus](ctx, c, http.MethodDelete, "/admin/v1/sandbox/scenario", nil)
}

// Markets lists every market with its status. GET /admin/v1/markets.
func (c *Client) Markets(ctx context.Context) ([]MarketStatus, error) {
	return list[MarketStatus](ctx, c, "/admin/v1/markets")
}

// SetMarketStatus sets which orders a market accepts.
// POST /admin/v1/markets/{symbol}/status.
func (c *Client) SetMarketStatus(ctx context.Context, symbol, status string) (*MarketStatus, error) {
	return call[MarketStatus](ctx, c, http.MethodPost, "/admin/v1/markets/"+url.PathEscape(symbol)+"/status", map[string]string{"status": status})
}

// ActivityQuery selects the records of Activity: a user's keys' requests
// (Email, optionally one Key), or with Unknown the requests that named keys
// that do not exist. Empty fields select everything.
type ActivityQuery struct {
	Email   string
	Key     string
	Since   string // a duration back from now, "1h"
	Outcome string // ok, error or a reason
	Limit   int    // at most this many; always sent
	Unknown bool
}

// Activity returns API requests, newest first. GET /admin/v1/activity.
func (c *Client) Activity(ctx context.Context, q ActivityQuery) ([]Activity, error) {
	v := url.Values{"limit": {strconv.Itoa(q.Limit)}}
	for k, s := range map[string]string{"email": q.Email, "key": q.Key, "since": q.Since, "outcome": q.Outcome} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Unknown {
		v.Set("unknown", "true")
	}
	return list[Activity](ctx, c, "/admin/v1/activity?"+v.Encode())
}

// AddFault adds a fault rule and returns it as stored, with its id
// (sandbox only). POST /admin/v1/faults.
func (c *Client) AddFault(ctx context.Context, s fault.Spec) (*fault.Spec, error) {
	return call[fault.Spec](ctx, c, http.MethodPost, "/admin/v1/faults", s)
}

// Faults lists the fault rules in the order they are tried.
// GET /admin/v1/faults.
func (c *Client) Faults(ctx context.Context) ([]fault.Spec, error) {
	return list[fault.Spec](ctx, c, "/admin/v1/faults")
}

// RemoveFault removes one fault rule and returns it.
// DELETE /admin/v1/faults/{id}.
func (c *Client) RemoveFault(ctx context.Context, id string) (*fault.Spec, error) {
	return call[fault.Spec](ctx, c, http.MethodDelete, "/admin/v1/faults/"+url.PathEscape(id), nil)
}

// ClearFaults removes every fault rule. DELETE /admin/v1/faults.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.Do(ctx, http.MethodDelete, "/admin/v1/faults", nil, nil)
}

// list is Do for a GET answered with a list of T.
func list[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	out, err := call[[]T](ctx, c, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// call is Do for a reply of type T.
func call[T any](ctx context.Context, c *Client, method, path string, body any) (*T, error) {
	var out T
	if err := c.Do(ctx, method, path, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
