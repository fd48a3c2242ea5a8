package twinex

// Balance is one account's holding of one currency, in ledger units.
// Available is Total minus Held; Held is what open orders reserve. Both are
// wide (Int128): one account may hold more than an int64 count of ledger
// units (about $922M at USD's scale).
type Balance struct {
	AccountID int64
	Currency  string
	Total     Int128
	Held      Int128
}

// Available returns what is not reserved by open orders.
func (b Balance) Available() Int128 { return b.Total.Sub(b.Held) }

// TransferKind says how funds entered or left an account.
type TransferKind uint8

const (
	// Deposit: funds arriving from outside the exchange.
	Deposit TransferKind = iota + 1
	// Withdrawal: funds leaving the exchange.
	Withdrawal
	// TransferIn and TransferOut: an internal move between two accounts,
	// recorded once on each side.
	TransferIn
	TransferOut
)

// String returns Gemini's /v1/transfers type spelling where there is one.
func (k TransferKind) String() string {
	switch k {
	case Deposit:
		return "Deposit"
	case Withdrawal:
		return "Withdrawal"
	case TransferIn:
		return "TransferIn"
	case TransferOut:
		return "TransferOut"
	}
	return "Unknown"
}

// Transfer is a movement of funds into, out of or between accounts. Amount
// and Fee are in the currency's ledger units; Amount is what reached (or
// left) the account, not counting Fee.
type Transfer struct {
	ID           int64 // Gemini's eid
	Kind         TransferKind
	AccountID    int64
	Currency     string
	Amount       int64
	Fee          int64
	Counterparty int64  // the other account of an internal transfer
	Destination  string // withdrawal address
	TxHash       string
	ClientID     string // client_transfer_id
	Method       string // e.g. "ACH" for fiat deposits
	Time         int64  // Unix ns
}

// Supply is the net amount of a currency that entered the exchange:
// deposits minus withdrawals. The ledger's first invariant is that the sum of
// all balances of the currency equals it. Net is wide, like balances.
type Supply struct {
	Currency string
	Net      Int128
}

// AccountFees are an account's fee rates.
type AccountFees struct {
	AccountID int64
	FeeRates
}
