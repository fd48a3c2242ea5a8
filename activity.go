package twinex

import "context"

// Activity is one API request that named an API key, accepted or refused.
type Activity struct {
	ID        int64  // set by the store; orders records with equal times
	Time      int64  // Unix ns, when the request arrived
	KeyID     string // as the request named it (it may not exist)
	UserID    int64  // the key's owner; 0 when the key is unknown
	AccountID int64  // the account acted on, when known
	IP        string // the source address (auth.ClientIP)
	Method    string
	Path      string
	Reason    string // "" when it succeeded, else the Gemini reason
	Status    int    // the HTTP status
	Latency   int64  // microseconds
	// Authenticated is set when the request was signed with the key's
	// secret from an allowed address, and Counted when it also counted
	// against the key's daily quota. Neither is kept in the log; the store
	// rolls Counted into the key's usage.
	Authenticated bool
	Counted       bool
}

// Outcome is "ok" for a request that succeeded, else its Gemini reason.
func (a Activity) Outcome() string {
	if a.Reason == "" {
		return "ok"
	}
	return a.Reason
}

// ActivityFilter selects activity records; zero fields do not filter.
// Records come newest first.
type ActivityFilter struct {
	UserID    int64 // the owner; with UnknownKeys false, required
	KeyID     string
	AccountID int64
	IP        string
	Outcome   string // "ok", "error", or a reason
	Since     int64  // Unix ns, inclusive
	// Before and BeforeID are the cursor of the next page: records
	// strictly older than (Before, BeforeID) in (Time, ID) order; zero
	// Before does not filter.
	Before   int64
	BeforeID int64
	Limit    int
	// UnknownKeys selects the records of keys that do not exist (UserID 0),
	// for the operator.
	UnknownKeys bool
}

// ActivityStore keeps the activity log. The sqlite store implements it.
type ActivityStore interface {
	// AddActivity appends records in one transaction.
	AddActivity(ctx context.Context, records []Activity) error
	// Activity returns the records f selects, newest first.
	Activity(ctx context.Context, f ActivityFilter) ([]Activity, error)
	// PruneActivity deletes the records older than before and returns how
	// many it deleted.
	PruneActivity(ctx context.Context, before int64) (int64, error)
}
