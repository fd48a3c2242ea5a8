package gemini

import (
	"context"
	"time"
)

// Balance is one currency of POST /v1/balances. Amounts are JSON strings.
// The fields are in the order of their JSON names, like Order's.
type Balance struct {
	Amount                 Decimal `json:"amount"` // total
	Available              Decimal `json:"available"`
	AvailableForWithdrawal Decimal `json:"availableForWithdrawal"`
	Currency               string  `json:"currency"`                    // upper case
	PendingDeposit         Decimal `json:"pendingDeposit,omitempty"`    // with PendingBalances
	PendingWithdrawal      Decimal `json:"pendingWithdrawal,omitempty"` // with PendingBalances
	Type                   string  `json:"type"`                        // "exchange"
}

// Balances returns the account's balances.
func (c *Client) Balances(ctx context.Context) ([]Balance, error) {
	return c.balances(ctx, nil)
}

// PendingBalances is Balances with showPendingBalances set, which adds
// PendingWithdrawal and PendingDeposit.
func (c *Client) PendingBalances(ctx context.Context) ([]Balance, error) {
	return c.balances(ctx, map[string]any{"showPendingBalances": true})
}

func (c *Client) balances(ctx context.Context, p map[string]any) ([]Balance, error) {
	var out []Balance
	if err := c.post(ctx, "/v1/balances", p, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// NotionalBalance is one currency of POST /v1/notionalbalances/:currency.
// The fields are in the order of their JSON names, like Order's; the
// notional values are absent (empty) when the server has no price to value
// the currency at.
type NotionalBalance struct {
	Amount                         Decimal `json:"amount"`
	AmountNotional                 Decimal `json:"amountNotional,omitempty"`
	Available                      Decimal `json:"available"`
	AvailableForWithdrawal         Decimal `json:"availableForWithdrawal"`
	AvailableForWithdrawalNotional Decimal `json:"availableForWithdrawalNotional,omitempty"`
	AvailableNotional              Decimal `json:"availableNotional,omitempty"`
	Currency                       string  `json:"currency"`
}

// NotionalBalances returns balances valued in a notional currency ("usd").
func (c *Client) NotionalBalances(ctx context.Context, currency string) ([]NotionalBalance, error) {
	s, err := segment("currency", currency)
	if err != nil {
		return nil, err
	}
	var out []NotionalBalance
	if err := c.post(ctx, "/v1/notionalbalances/"+s, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Transfer is one deposit or withdrawal of POST /v1/transfers. Optional keys
// are empty when absent.
type Transfer struct {
	Type        string  `json:"type"`   // Deposit, Withdrawal, Reward, AdminCredit, AdminDebit
	Status      string  `json:"status"` // Advanced, Complete, Pending
	Timestampms int64   `json:"timestampms"`
	EID         int64   `json:"eid"` // a JSON number
	AdvanceEID  int64   `json:"advanceEid,omitempty"`
	Currency    string  `json:"currency"`
	Amount      Decimal `json:"amount"`
	Method      string  `json:"method,omitempty"` // ACH, Wire, SEN
	TxHash      string  `json:"txHash,omitempty"`
	OutputIdx   int64   `json:"outputIdx,omitempty"`
	Destination string  `json:"destination,omitempty"`
	// WithdrawalID is the id Withdraw returned.
	WithdrawalID string  `json:"withdrawalId,omitempty"`
	FeeAmount    Decimal `json:"feeAmount,omitempty"`
	FeeCurrency  string  `json:"feeCurrency,omitempty"`
	Purpose      string  `json:"purpose,omitempty"`
	Network      string  `json:"network,omitempty"`
	Message      string  `json:"message,omitempty"`
}

// Time returns the transfer time.
func (t Transfer) Time() time.Time { return time.UnixMilli(t.Timestampms) }

// TransfersOptions filters Transfers. Zero values leave a parameter out.
type TransfersOptions struct {
	Currency                     string
	Since                        time.Time // sent as "timestamp" in ms
	Limit                        int       // limit_transfers: default 10, max 50
	ShowCompletedDepositAdvances bool
}

// Transfers returns deposits and withdrawals, newest first. Gemini allows one
// call per 5 seconds.
func (c *Client) Transfers(ctx context.Context, opts TransfersOptions) ([]Transfer, error) {
	var out []Transfer
	if err := c.post(ctx, "/v1/transfers", transfersParams(opts), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// transfersParams is the payload of Transfers and TransfersV2.
func transfersParams(opts TransfersOptions) map[string]any {
	p := map[string]any{}
	if opts.Currency != "" {
		p["currency"] = opts.Currency
	}
	if !opts.Since.IsZero() {
		p["timestamp"] = millis(opts.Since)
	}
	if opts.Limit > 0 {
		p["limit_transfers"] = opts.Limit
	}
	if opts.ShowCompletedDepositAdvances {
		p["show_completed_deposit_advances"] = true
	}
	return p
}

// TransfersV2 is Transfers through POST /v2/transfers, the form Gemini now
// recommends: each on-chain transfer names its Network, and network (a
// network id such as "ethereum"; "" for all) filters the list.
func (c *Client) TransfersV2(ctx context.Context, opts TransfersOptions, network string) ([]Transfer, error) {
	p := transfersParams(opts)
	if network != "" {
		p["network"] = network
	}
	var out []Transfer
	if err := c.post(ctx, "/v2/transfers", p, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// DepositAddress is one entry of POST /v1/addresses/:network.
// The fields are in the order of their JSON names, like Order's.
type DepositAddress struct {
	Address   string `json:"address"`
	Label     string `json:"label,omitempty"`
	Memo      string `json:"memo,omitempty"`
	Network   string `json:"network,omitempty"`
	Timestamp int64  `json:"timestamp"` // ms, a JSON number
}

// Addresses returns the deposit addresses of a network ("bitcoin",
// "ethereum", ...). Gemini allows one call per 2 seconds.
func (c *Client) Addresses(ctx context.Context, network string) ([]DepositAddress, error) {
	s, err := segment("network", network)
	if err != nil {
		return nil, err
	}
	var out []DepositAddress
	if err := c.post(ctx, "/v1/addresses/"+s, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// NewAddress is the answer of POST /v1/deposit/:network/newAddress. Current
// Gemini answers with Network, older servers with Currency; Twinex sends
// both.
// The fields are in the order of their JSON names, like Order's.
type NewAddress struct {
	Address  string `json:"address"`
	Currency string `json:"currency,omitempty"`
	Label    string `json:"label,omitempty"`
	Memo     string `json:"memo,omitempty"`
	Network  string `json:"network,omitempty"`
}

// NewDepositAddress creates a deposit address. networkOrCurrency is a network
// id ("bitcoin", the current docs) or a currency code ("btc", the older docs
// and ccxt); Gemini and Twinex accept either. label may be empty.
func (c *Client) NewDepositAddress(ctx context.Context, networkOrCurrency, label string) (*NewAddress, error) {
	s, err := segment("network", networkOrCurrency)
	if err != nil {
		return nil, err
	}
	p := map[string]any{}
	if label != "" {
		p["label"] = label
	}
	return call[NewAddress](ctx, c.post, "/v1/deposit/"+s+"/newAddress", p)
}

// Withdrawal is the answer of POST /v1/withdraw/:currency. Which keys are set
// depends on the currency and the server.
// The fields are in the order of their JSON names, like Order's.
type Withdrawal struct {
	Address      string  `json:"address,omitempty"`
	Amount       Decimal `json:"amount"`
	Destination  string  `json:"destination,omitempty"`
	Fee          Decimal `json:"fee,omitempty"`
	Message      string  `json:"message,omitempty"`
	TxHash       string  `json:"txHash,omitempty"`
	WithdrawalID string  `json:"withdrawalId,omitempty"`
}

// Withdraw sends amount of currency ("btc") to address, which must be on the
// approved list if allowlisting is on. clientTransferID is optional. The
// amount is sent as a JSON string. Errors include InsufficientFunds (HTTP
// 406), CryptoAddressWhitelistsNotEnabled and MissingRole (HTTP 403).
func (c *Client) Withdraw(ctx context.Context, currency, address string, amount Decimal, clientTransferID string) (*Withdrawal, error) {
	s, err := segment("currency", currency)
	if err != nil {
		return nil, err
	}
	p := map[string]any{"address": address, "amount": amount}
	if clientTransferID != "" {
		p["client_transfer_id"] = clientTransferID
	}
	return call[Withdrawal](ctx, c.post, "/v1/withdraw/"+s, p)
}

// WithdrawalV2 is the answer of POST /v2/withdraw/:network/:ticker.
// The fields are in the order of their JSON names, like Order's.
type WithdrawalV2 struct {
	Address      string  `json:"address"`
	Amount       Decimal `json:"amount"`
	Currency     string  `json:"currency"`
	Fee          Decimal `json:"fee"`
	WithdrawalID string  `json:"withdrawalId"`
}

// WithdrawV2Options are the optional fields of WithdrawV2 and
// WithdrawFeeEstimateV2.
type WithdrawV2Options struct {
	Memo             string // for networks with memos
	ClientTransferID string // sent as clientTransferId (WithdrawV2 only)
}

// WithdrawV2 sends amount of ticker ("eth") on network ("ethereum") to
// address, the form Gemini now recommends. The rules are those of Withdraw;
// a network that does not carry the ticker is UnsupportedNetwork (HTTP 404).
func (c *Client) WithdrawV2(ctx context.Context, network, ticker, address string, amount Decimal, opts WithdrawV2Options) (*WithdrawalV2, error) {
	path, err := withdrawV2Path(network, ticker)
	if err != nil {
		return nil, err
	}
	p := map[string]any{"address": address, "amount": amount}
	if opts.Memo != "" {
		p["memo"] = opts.Memo
	}
	if opts.ClientTransferID != "" {
		p["clientTransferId"] = opts.ClientTransferID
	}
	return call[WithdrawalV2](ctx, c.post, path, p)
}

// FeeEstimate is the answer of POST /v2/withdraw/:network/:ticker/feeEstimate.
// Fee is a JSON number on the wire.
type FeeEstimate struct {
	Currency         string `json:"currency"`
	Fee              Number `json:"fee"`
	IsOverride       bool   `json:"isOverride"`
	MonthlyLimit     int    `json:"monthlyLimit"`
	MonthlyRemaining int    `json:"monthlyRemaining"`
}

// WithdrawFeeEstimateV2 estimates the fee of a withdrawal without making it.
func (c *Client) WithdrawFeeEstimateV2(ctx context.Context, network, ticker, address string, amount Decimal, opts WithdrawV2Options) (*FeeEstimate, error) {
	path, err := withdrawV2Path(network, ticker)
	if err != nil {
		return nil, err
	}
	p := map[string]any{"address": address, "amount": amount}
	if opts.Memo != "" {
		p["memo"] = opts.Memo
	}
	return call[FeeEstimate](ctx, c.post, path+"/feeEstimate", p)
}

func withdrawV2Path(network, ticker string) (string, error) {
	n, err := segment("network", network)
	if err != nil {
		return "", err
	}
	t, err := segment("ticker", ticker)
	if err != nil {
		return "", err
	}
	return "/v2/withdraw/" + n + "/" + t, nil
}

// Message is the answer of endpoints that reply with a sentence only.
type Message struct {
	Message string `json:"message"`
}

// ApprovedAddressRequest asks to add an address to the allowlist of a
// network; it becomes active after a hold. memo may be empty.
func (c *Client) ApprovedAddressRequest(ctx context.Context, network, address, label, memo string) (*Message, error) {
	s, err := segment("network", network)
	if err != nil {
		return nil, err
	}
	p := map[string]any{"address": address, "label": label}
	if memo != "" {
		p["memo"] = memo
	}
	return call[Message](ctx, c.post, "/v1/approvedAddresses/"+s+"/request", p)
}

// ApprovedAddressRemove removes an address from the allowlist of a network.
func (c *Client) ApprovedAddressRemove(ctx context.Context, network, address string) (*Message, error) {
	s, err := segment("network", network)
	if err != nil {
		return nil, err
	}
	return call[Message](ctx, c.post, "/v1/approvedAddresses/"+s+"/remove", map[string]any{"address": address})
}

// ApprovedAddress is one allowlisted address.
type ApprovedAddress struct {
	Address   string `json:"address"`
	CreatedAt int64  `json:"createdAt,string"` // ms, sent as a JSON string
	Label     string `json:"label"`
	Memo      string `json:"memo,omitempty"`
	Network   string `json:"network"`
	Scope     string `json:"scope"`  // account, group
	Status    string `json:"status"` // active, pending-time, pending-mua
}

// ApprovedAddressList returns the allowlist of a network.
// POST /v1/approvedAddresses/account/:network.
func (c *Client) ApprovedAddressList(ctx context.Context, network string) ([]ApprovedAddress, error) {
	s, err := segment("network", network)
	if err != nil {
		return nil, err
	}
	var out struct {
		ApprovedAddresses []ApprovedAddress `json:"approvedAddresses"`
	}
	if err := c.post(ctx, "/v1/approvedAddresses/account/"+s, nil, &out); err != nil {
		return nil, err
	}
	return out.ApprovedAddresses, nil
}

// PaymentMethods is the answer of POST /v1/payments/methods.
type PaymentMethods struct {
	Balances []Balance `json:"balances"`
	Banks    []Bank    `json:"banks"`
}

// Bank is a linked bank account.
type Bank struct {
	Bank   string `json:"bank"`
	BankID string `json:"bankId"`
}

// PaymentMethods returns the fiat balances and linked bank accounts.
func (c *Client) PaymentMethods(ctx context.Context) (*PaymentMethods, error) {
	return call[PaymentMethods](ctx, c.post, "/v1/payments/methods", nil)
}
