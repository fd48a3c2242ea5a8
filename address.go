package twinex

import "context"

// Reasons of the funds endpoints that Gemini does not name. Gemini answers
// a withdrawal to an address off the approved list with a 400 and a message
// but documents no reason (reference §3.17), so Twinex picks these; both
// are HTTP 400, which ccxt maps to BadRequest.
const (
	// InvalidAddress: an address that is missing its network's form, or an
	// approved-address request or removal that does not fit the list.
	InvalidAddress = "InvalidAddress"
	// AddressNotApproved: a withdrawal to an address that is not an active
	// approved address, while the account's list for that network is not
	// empty.
	AddressNotApproved = "AddressNotApproved"
)

// DepositAddress is an address an account receives a currency's network
// deposits at (Gemini's /v1/addresses and /v1/deposit/:network/newAddress).
type DepositAddress struct {
	ID        int64
	AccountID int64
	Network   string // lower case, e.g. "bitcoin"
	Currency  string // upper case: the currency it was asked for
	Address   string
	Label     string
	Created   int64 // Unix ns
}

// ApprovedAddress is an entry of an account's withdrawal allowlist for one
// network (Gemini's approved addresses, reference §3.19). It becomes usable
// at Active, after the approval hold; a removed entry stays as history.
type ApprovedAddress struct {
	AccountID int64
	Network   string // lower case, e.g. "ethereum"
	Address   string
	Label     string
	Memo      string
	Created   int64 // Unix ns
	Active    int64 // Unix ns when it becomes active
	Removed   int64 // Unix ns; 0 while on the list
}

// ActiveAt reports whether the address may receive withdrawals at time now.
func (a *ApprovedAddress) ActiveAt(now int64) bool {
	return a.Removed == 0 && now >= a.Active
}

// AddressStore keeps deposit addresses and approved withdrawal addresses.
// The sqlite store implements it beside AccountStore; storetest.RunAddresses
// is its contract suite.
type AddressStore interface {
	// CreateDepositAddress stores a new deposit address and sets its ID;
	// ErrConflict if the address is already taken on its network.
	CreateDepositAddress(ctx context.Context, a *DepositAddress) error
	// DepositAddresses lists an account's deposit addresses on a network,
	// oldest first.
	DepositAddresses(ctx context.Context, accountID int64, network string) ([]DepositAddress, error)
	// ApproveAddress adds an address to an account's list for its network;
	// ErrConflict if it is on the list already (and not removed). An
	// address removed before may be added again.
	ApproveAddress(ctx context.Context, a *ApprovedAddress) error
	// ApprovedAddresses lists the entries of an account's list for a
	// network that are not removed, pending ones included, oldest first.
	ApprovedAddresses(ctx context.Context, accountID int64, network string) ([]ApprovedAddress, error)
	// AllowlistUsed reports whether the account ever had an approved
	// address on the network, removed ones included. Once used, the
	// allowlist stays on: removing every entry does not open withdrawals
	// to any address.
	AllowlistUsed(ctx context.Context, accountID int64, network string) (bool, error)
	// RemoveApprovedAddress marks an entry removed at time now;
	// ErrNotFound if the address is not on the list.
	RemoveApprovedAddress(ctx context.Context, accountID int64, network, address string, now int64) error
}
