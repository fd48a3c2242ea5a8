package gemini

import (
	"context"
	"encoding/json"
	"time"
)

// AccountDetail is the answer of POST /v1/account. The fields of it and of
// the structs below are in the order of their JSON names, like Order's.
type AccountDetail struct {
	Account              AccountInfo `json:"account"`
	MemoReferenceCode    string      `json:"memo_reference_code"`
	Users                []User      `json:"users"`
	VirtualAccountNumber string      `json:"virtual_account_number,omitempty"`
}

// AccountInfo describes one account.
type AccountInfo struct {
	AccountName string `json:"accountName"`    // display name, "Primary"
	Created     int64  `json:"created,string"` // ms, sent as a JSON string here
	ShortName   string `json:"shortName"`      // nickname, "primary"
	Type        string `json:"type"`           // exchange, custody
}

// User is a user of an account.
type User struct {
	CountryCode string `json:"countryCode"`
	IsVerified  bool   `json:"isVerified"`
	LastSignIn  string `json:"lastSignIn,omitempty"` // RFC 3339, "2020-07-21T13:37:39.453Z"; Twinex sends none
	Name        string `json:"name"`
	Status      string `json:"status"`
}

// Account returns the account the key acts for.
func (c *Client) Account(ctx context.Context) (*AccountDetail, error) {
	return call[AccountDetail](ctx, c.post, "/v1/account", nil)
}

// Roles is the answer of POST /v1/roles. IsAccountAdmin and CounterpartyID
// come with master keys only.
type Roles struct {
	IsAuditor      bool   `json:"isAuditor"`
	IsFundManager  bool   `json:"isFundManager"`
	IsTrader       bool   `json:"isTrader"`
	IsAccountAdmin bool   `json:"isAccountAdmin,omitempty"`
	CounterpartyID string `json:"counterparty_id,omitempty"`
}

// Roles returns the roles of the API key. It is a key-level call: the
// default account is not sent.
func (c *Client) Roles(ctx context.Context) (*Roles, error) {
	return call[Roles](ctx, c.postGroup, "/v1/roles", nil)
}

// CreatedAccount is the answer of POST /v1/account/create.
type CreatedAccount struct {
	Account string `json:"account"` // the nickname derived from the name
	Type    string `json:"type"`
}

// CreateAccount creates an account in the group (master key, Administrator
// role). accountType is "exchange" or "custody"; empty leaves it to the
// server (exchange).
func (c *Client) CreateAccount(ctx context.Context, name, accountType string) (*CreatedAccount, error) {
	p := map[string]any{"name": name}
	if accountType != "" {
		p["type"] = accountType
	}
	return call[CreatedAccount](ctx, c.postGroup, "/v1/account/create", p)
}

// RenamedAccount is the answer of POST /v1/account/rename.
type RenamedAccount struct {
	Name    string `json:"name"`
	Account string `json:"account"`
}

// RenameAccount renames the account with nickname account (master key,
// Administrator role). Empty newName or newAccount leave that one unchanged.
func (c *Client) RenameAccount(ctx context.Context, account, newName, newAccount string) (*RenamedAccount, error) {
	p := map[string]any{"account": account}
	if newName != "" {
		p["newName"] = newName
	}
	if newAccount != "" {
		p["newAccount"] = newAccount
	}
	return call[RenamedAccount](ctx, c.postGroup, "/v1/account/rename", p)
}

// AccountSummary is one account of POST /v1/account/list. The fields are
// in the order of their JSON names, like Order's.
type AccountSummary struct {
	Account        string `json:"account"` // nickname
	CounterpartyID string `json:"counterparty_id"`
	Created        int64  `json:"created"` // ms, a JSON number here
	Name           string `json:"name"`
	Status         string `json:"status"`
	Type           string `json:"type"`
}

// ListAccountsOptions filters ListAccounts. Zero values leave a parameter out.
type ListAccountsOptions struct {
	Limit int       // limit_accounts, at most 500
	Since time.Time // sent as "timestamp" in ms
}

// ListAccounts returns the accounts of the group (master key).
func (c *Client) ListAccounts(ctx context.Context, opts ListAccountsOptions) ([]AccountSummary, error) {
	p := map[string]any{}
	if opts.Limit > 0 {
		p["limit_accounts"] = opts.Limit
	}
	if !opts.Since.IsZero() {
		p["timestamp"] = millis(opts.Since)
	}
	var out []AccountSummary
	if err := c.postGroup(ctx, "/v1/account/list", p, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// AccountTransferResult is the answer of POST /v1/account/transfer/:currency.
// The keys vary between servers; absent ones are empty.
// The fields are in the order of their JSON names, like Order's.
type AccountTransferResult struct {
	Amount       Decimal `json:"amount"`
	Currency     string  `json:"currency"` // the currency's full name, "Bitcoin"
	Fee          Decimal `json:"fee,omitempty"`
	FromAccount  string  `json:"fromAccount"`
	Message      string  `json:"message,omitempty"`
	ToAccount    string  `json:"toAccount"`
	TxHash       string  `json:"txHash,omitempty"`
	UUID         string  `json:"uuid,omitempty"`
	WithdrawalID string  `json:"withdrawalId,omitempty"`
}

// AccountTransfer moves amount of currency between two accounts of the group
// (master key, Fund Manager role). The amount is sent as a JSON string.
func (c *Client) AccountTransfer(ctx context.Context, currency, sourceAccount, targetAccount string, amount Decimal) (*AccountTransferResult, error) {
	s, err := segment("currency", currency)
	if err != nil {
		return nil, err
	}
	p := map[string]any{"sourceAccount": sourceAccount, "targetAccount": targetAccount, "amount": amount}
	return call[AccountTransferResult](ctx, c.postGroup, "/v1/account/transfer/"+s, p)
}

// Transactions is the answer of POST /v1/transactions.
type Transactions struct {
	Results           []Transaction `json:"results"`
	ContinuationToken string        `json:"continuationToken,omitempty"`
}

// Transaction is a trade or a transfer of any account of the group, in the
// shapes of Gemini's OpenAPI description: a trade has Type "trade" and the
// trade fields; a transfer has TransferType ("Deposit", "Withdrawal") and
// the transfer fields. Ids are decoded leniently (strings or numbers) and
// Raw keeps the whole object.
type Transaction struct {
	Account     string  `json:"account"`
	Type        string  `json:"type,omitempty"` // "trade" for trades
	Timestampms int64   `json:"timestampms"`
	Amount      Decimal `json:"amount"`

	// Trades.
	Symbol         string  `json:"symbol,omitempty"` // upper case, "BTCUSD"
	Side           string  `json:"side,omitempty"`   // buy, sell
	Price          Decimal `json:"price,omitempty"`
	TID            ID      `json:"tid,omitempty"`
	OrderID        ID      `json:"orderId,omitempty"` // a JSON number
	ClientOrderID  string  `json:"clientOrderId,omitempty"`
	IsAggressor    bool    `json:"isAggressor,omitempty"`
	FeeAmount      Decimal `json:"feeAmount,omitempty"`
	FeeAssetCode   string  `json:"feeAssetCode,omitempty"`
	IsAuctionFill  bool    `json:"isAuctionFill,omitempty"`
	IsClearingFill bool    `json:"isClearingFill,omitempty"`

	// Transfers.
	TransferType     string `json:"transferType,omitempty"` // Deposit, Withdrawal
	Status           string `json:"status,omitempty"`
	EID              ID     `json:"eid,omitempty"`
	Currency         string `json:"currency,omitempty"`
	TransactionHash  string `json:"transactionHash,omitempty"`
	Source           string `json:"source,omitempty"`
	Destination      string `json:"destination,omitempty"`
	WithdrawalID     string `json:"withdrawalId,omitempty"`
	ClientTransferID string `json:"clientTransferId,omitempty"`
	Method           string `json:"method,omitempty"`
	Purpose          string `json:"purpose,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// IsTrade reports whether the transaction is a trade (else a transfer).
func (t Transaction) IsTrade() bool {
	return t.Type == "trade" || (t.TransferType == "" && t.TID != "")
}

// UnmarshalJSON decodes the known fields and keeps the raw object.
func (t *Transaction) UnmarshalJSON(b []byte) error {
	type plain Transaction
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	p.Raw = append(json.RawMessage(nil), b...)
	*t = Transaction(p)
	return nil
}

// TransactionsOptions pages Transactions. Zero values leave a parameter out.
type TransactionsOptions struct {
	Since             time.Time // sent as "timestamp_nanos"
	Limit             int       // default 100, max 300
	ContinuationToken string    // from the previous page
}

// Transactions returns trades and transfers across the group (master key).
func (c *Client) Transactions(ctx context.Context, opts TransactionsOptions) (*Transactions, error) {
	p := map[string]any{}
	if !opts.Since.IsZero() {
		p["timestamp_nanos"] = opts.Since.UnixNano()
	}
	if opts.Limit > 0 {
		p["limit"] = opts.Limit
	}
	if opts.ContinuationToken != "" {
		p["continuation_token"] = opts.ContinuationToken
	}
	return call[Transactions](ctx, c.postGroup, "/v1/transactions", p)
}
