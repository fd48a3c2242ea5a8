// Package admin is Twinex's admin API (/admin/v1) as Go types: the replies
// the server sends, which the api package fills, and a Client that the
// twinex command and tests call it with. The admin API is Twinex's own, not
// Gemini's; its wire format is pinned by the api package's tests and by
// the twinex command's, whose output is the server's JSON.
//
// Fields are in the order of their JSON names: the replies were built from
// maps, whose keys encoding/json sorts, and a struct must encode the same
// bytes.
package admin

import "github.com/twinex/twinex/gemini"

// Transfer is the answer of POST /admin/v1/fund and /admin/v1/withdraw.
type Transfer struct {
	AccountID   int64  `json:"account_id"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	EID         int64  `json:"eid"`
	Timestampms int64  `json:"timestampms"`
	Type        string `json:"type"` // Deposit, Withdrawal
}

// Balance is one currency of GET /admin/v1/balances, every currency of the
// account, zero or not.
type Balance struct {
	Amount    string `json:"amount"`
	Available string `json:"available"`
	Currency  string `json:"currency"`
	Held      string `json:"held"` // reserved by open orders
}

// Verification is the answer of GET /admin/v1/verify: the ledger and book
// check, and the counts beside it.
type Verification struct {
	Accounts    int               `json:"accounts"`
	LastOrderID int64             `json:"last_order_id"`
	LastTradeID int64             `json:"last_trade_id"`
	OK          bool              `json:"ok"`
	OpenOrders  int               `json:"open_orders"`
	Supply      map[string]string `json:"supply"`               // currency code: total of all balances
	Violations  []string          `json:"violations,omitempty"` // when not OK
}

// Order is an order as the admin API shows it: Gemini's order object with
// the account it belongs to.
type Order struct {
	AccountID int64 `json:"account_id,omitempty"`
	gemini.Order
}

// User is the answer of POST and GET /admin/v1/accounts.
type User struct {
	AccountID int64         `json:"account_id,omitempty"` // the first (primary) account's
	Accounts  []UserAccount `json:"accounts"`
	Email     string        `json:"email"`
	ID        int64         `json:"id"`
	Identity  string        `json:"identity"` // unverified, pending, verified, rejected
}

// UserAccount is one account of a User.
type UserAccount struct {
	Account   string `json:"account"` // nickname
	AccountID int64  `json:"account_id"`
	Name      string `json:"name"`
	Type      string `json:"type"`
}

// Key describes an API key, with its secret only in the answers that
// create one or give it a new one (shown once).
type Key struct {
	// Account is the nickname of an account key's account; nil for a
	// master key. (A rotated key's answer names no account: "".)
	Account   *string  `json:"account,omitempty"`
	AccountID int64    `json:"account_id,omitempty"` // account keys only
	Created   string   `json:"created"`              // RFC 3339
	Expires   string   `json:"expires,omitempty"`    // RFC 3339; never when empty
	Heartbeat bool     `json:"heartbeat"`
	IP        []string `json:"ip"`
	Key       string   `json:"key"`
	Label     string   `json:"label"`
	Master    bool     `json:"master"`
	Revoked   bool     `json:"revoked"`
	Roles     []string `json:"roles"`
	Secret    string   `json:"secret,omitempty"`
	TimeNonce bool     `json:"time_nonce"`
}

// IdentityReview is the answer of POST /admin/v1/kyc, a decision on a
// user's identity verification.
type IdentityReview struct {
	Email    string `json:"email"`
	ID       int64  `json:"id"`
	Identity string `json:"identity"`
	Reason   string `json:"reason"`
}

// PendingIdentity is one submission of GET /admin/v1/kyc/pending.
type PendingIdentity struct {
	Address     string `json:"address"`
	BirthDate   string `json:"birth_date"`
	Country     string `json:"country"`
	Email       string `json:"email"`
	LegalName   string `json:"legal_name"`
	Submitted   string `json:"submitted"`    // RFC 3339
	SubmittedNs int64  `json:"submitted_ns"` // names the submission a decision is about
}

// Plan is the answer of GET and POST /admin/v1/plan.
type Plan struct {
	DailyRequestsPerKey int64  `json:"daily_requests_per_key"`
	Email               string `json:"email"`
	Plan                string `json:"plan"`
}

// SandboxResult is the answer of the sandbox's save, restore and reset.
type SandboxResult struct {
	OK       bool   `json:"ok"`
	Reset    bool   `json:"reset,omitempty"`
	Restored string `json:"restored,omitempty"`
	Saved    string `json:"saved,omitempty"`
}

// Snapshots is the answer of GET /admin/v1/sandbox/snapshots.
type Snapshots struct {
	Snapshots []string `json:"snapshots"`
}

// MarketStatus is a market's status, the items of GET /admin/v1/markets and
// the answer of POST /admin/v1/markets/{symbol}/status.
type MarketStatus struct {
	Symbol string `json:"symbol"`
	Status string `json:"status"` // open, closed, cancel_only, post_only, limit_only
}

// Activity is one API request of GET /admin/v1/activity.
type Activity struct {
	Time      string `json:"time"` // RFC 3339 with nanoseconds
	Key       string `json:"key"`
	AccountID int64  `json:"account_id"`
	IP        string `json:"ip"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Outcome   string `json:"outcome"` // ok, error or a reason
	Status    int    `json:"status"`
	LatencyUS int64  `json:"latency_us"`
}

// SimStatus is the answer of GET /admin/v1/sandbox/sim (and of pausing or
// resuming the simulator): whether it runs, and if so its reference
// prices and counters.
type SimStatus struct {
	Enabled   bool              `json:"enabled"`
	Paused    *bool             `json:"paused,omitempty"`    // when enabled
	Reference map[string]string `json:"reference,omitempty"` // symbol -> the reference price the makers quote around
	Stats     *SimStats         `json:"stats,omitempty"`
}

// SimStats are the simulator's counters since it started (sim.Stats).
type SimStats struct {
	Commands          int64 // sent to the exchange
	Rejected          int64 // refused by the exchange
	InsufficientFunds int64 // of which for lack of funds
	Lost              int64 // sent but never answered
	Requotes          int64 // full re-quotes of a ladder
	TakerOrders       int64 // taker orders sent
	TakerFills        int64 // taker orders that traded
}

// ScenarioStatus is the answer of the /admin/v1/sandbox/scenario
// endpoints: the current or last run, or, when none has run, State "none"
// and the built-in scenarios.
type ScenarioStatus struct {
	Applied  *int     `json:"applied,omitempty"` // steps applied so far (a run)
	Error    string   `json:"error,omitempty"`   // why a run failed
	Examples []string `json:"examples,omitempty"`
	Length   string   `json:"length,omitempty"` // the run's length, as a Go duration
	Name     string   `json:"name,omitempty"`
	NextAt   string   `json:"next_at,omitempty"` // RFC 3339: the next step, while running
	Seed     *uint64  `json:"seed,omitempty"`
	Started  string   `json:"started,omitempty"` // RFC 3339
	State    string   `json:"state"`             // none, running, finished, stopped, failed
	Steps    *int     `json:"steps,omitempty"`
}

// Health is the answer of GET /healthz: whether the exchange serves, on
// which store, and, on a shared PostgreSQL store, this server's role and
// the leader.
type Health struct {
	Holder     string `json:"holder,omitempty"` // this server's name in the lease
	Leader     string `json:"leader,omitempty"`
	LeaderAddr string `json:"leader_addr,omitempty"`
	Reason     string `json:"reason,omitempty"` // why it is not ok
	Role       string `json:"role"`             // leader or standby
	Status     string `json:"status"`           // ok, unavailable, failed
	Store      string `json:"store"`            // password redacted
	Token      int64  `json:"token,omitempty"`  // the leader's fencing token
}
